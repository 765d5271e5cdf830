package org.cortado.engine.data;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;

/**
 * The read-only file channel jhdf reads an HDF5 file through, refusing at once any read or mapping
 * that reaches past the end of the file.
 *
 * <p>Why: jhdf trusts sizes and addresses read from the file. When a damaged header asks for bytes
 * past the end, jhdf 0.13's {@code HdfFileChannel} first tries {@code map}, which fails, then
 * allocates a buffer of the claimed size (up to 2 GiB) and fills it with positional reads that do
 * not advance the position, so a file of a few KB is re-read a million times over: in the fuzz test
 * single cases ran past its 5 s limit, or ran out of heap. Failing the read instead turns that into
 * a prompt error. A read or mapping inside the file is passed through untouched (mappings stay
 * zero-copy). What remains: jhdf allocates the claimed size before it reads, so a damaged header
 * can still cost one large allocation (or an OutOfMemoryError, which Hdf5File reports as a damaged
 * file). Files up to 2 GiB avoid even that: Hdf5File maps them whole instead of using a channel.
 *
 * <pre>
 *   read(dst, pos):   pos + dst.remaining() &gt; size  -&gt;  IOException (jhdf wraps it in HdfException)
 *   map(mode, pos, n): pos + n &gt; size               -&gt;  UncheckedIOException, so that jhdf does not
 *                                                     fall back to its allocate-and-read path
 * </pre>
 */
final class Hdf5Channel extends FileChannel {
    private final FileChannel file;
    private final Path path;
    private final long size;

    Hdf5Channel(FileChannel file, Path path) throws IOException {
        this.file = file;
        this.path = path;
        this.size = file.size(); // read-only: the size is fixed while we read
    }

    private EOFException pastEnd(long position, long length) {
        return new EOFException(path + ": " + length + " bytes at offset " + position
                + " reach past the end of the file (" + size
                + " bytes): the file is truncated or a size or address in it is damaged");
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        if (position < 0 || position + dst.remaining() > size) {
            throw pastEnd(position, dst.remaining());
        }
        return file.read(dst, position);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long length) throws IOException {
        if (position < 0 || length < 0 || position + length > size) {
            throw new UncheckedIOException(pastEnd(position, length));
        }
        return file.map(mode, position, length);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        long position = file.position();
        if (position + dst.remaining() > size) {
            throw pastEnd(position, dst.remaining());
        }
        return file.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        return file.read(dsts, offset, length);
    }

    @Override
    public long position() throws IOException {
        return file.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        file.position(newPosition);
        return this;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return file.transferTo(position, count, target);
    }

    @Override
    public int write(ByteBuffer src) {
        throw new NonWritableChannelException();
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
        throw new NonWritableChannelException();
    }

    @Override
    public int write(ByteBuffer src, long position) {
        throw new NonWritableChannelException();
    }

    @Override
    public FileChannel truncate(long newSize) {
        throw new NonWritableChannelException();
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) {
        throw new NonWritableChannelException();
    }

    @Override
    public void force(boolean metaData) {
        // Nothing written, nothing to force.
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return file.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return file.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        file.close();
    }
}
