package org.cortado.engine.data;

import io.jhdf.exceptions.HdfFilterException;
import io.jhdf.filter.Filter;
import io.jhdf.filter.FilterManager;
import java.util.Arrays;

/**
 * HDF5's Fletcher-32 checksum filter (id 3), decoding as HDF5's {@code H5Z__filter_fletcher32} does:
 * verify the checksum stored in a chunk's last 4 bytes, then drop them.
 *
 * <p>jhdf 0.13's own fletcher32 filter neither verifies nor drops the checksum: an unfiltered chunk
 * comes out 4 bytes too long, and (when deflate ran first) a damaged chunk goes unnoticed. {@link
 * #install()} replaces it in jhdf's filter registry, which is global to the JVM; the replacement only
 * adds the checks HDF5 makes, so other jhdf users in the process (weights files) read the same data.
 */
final class Hdf5Fletcher32 implements Filter {
    static final int ID = 3;

    private static volatile boolean installed;

    private Hdf5Fletcher32() {}

    /** Registers this filter with jhdf once; later pipelines use it. */
    static void install() {
        if (!installed) {
            synchronized (Hdf5Fletcher32.class) {
                if (!installed) {
                    FilterManager.addFilter(new Hdf5Fletcher32());
                    installed = true;
                }
            }
        }
    }

    @Override
    public int getId() {
        return ID;
    }

    @Override
    public String getName() {
        return "fletcher32";
    }

    @Override
    public byte[] decode(byte[] encoded, int[] filterData) {
        if (encoded.length < 4) {
            throw new HdfFilterException("fletcher32: a chunk of " + encoded.length
                    + " bytes has no room for its checksum");
        }
        int n = encoded.length - 4;
        int stored = (encoded[n] & 0xff) | (encoded[n + 1] & 0xff) << 8 | (encoded[n + 2] & 0xff) << 16
                | (encoded[n + 3] & 0xff) << 24; // little-endian, as HDF5's UINT32DECODE
        int computed = checksum(encoded, n);
        // HDF5 also accepts the checksum with the bytes of each 16-bit half swapped (files written
        // by early versions on little-endian machines).
        int reversed = ((computed >>> 8) & 0x00ff00ff) | ((computed & 0x00ff00ff) << 8);
        if (stored != computed && stored != reversed) {
            throw new HdfFilterException(String.format("Fletcher32 checksum mismatch: stored 0x%08x, computed 0x%08x",
                    stored, computed));
        }
        return Arrays.copyOf(encoded, n);
    }

    /**
     * HDF5's {@code H5_checksum_fletcher32}: sums of big-endian 16-bit words, folded every 360 words.
     * Java's int arithmetic wraps as C's uint32_t does, which the folding relies on.
     */
    static int checksum(byte[] data, int length) {
        int sum1 = 0;
        int sum2 = 0;
        int words = length / 2;
        int at = 0;
        while (words > 0) {
            int block = Math.min(words, 360);
            words -= block;
            for (int i = 0; i < block; i++, at += 2) {
                sum1 += (data[at] & 0xff) << 8 | (data[at + 1] & 0xff);
                sum2 += sum1;
            }
            sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
            sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
        }
        if (length % 2 != 0) {
            sum1 += (data[at] & 0xff) << 8;
            sum2 += sum1;
            sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
            sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
        }
        sum1 = (sum1 & 0xffff) + (sum1 >>> 16);
        sum2 = (sum2 & 0xffff) + (sum2 >>> 16);
        return sum2 << 16 | sum1;
    }
}
