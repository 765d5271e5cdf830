package org.cortado.cluster;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.vertx.core.impl.transports.NioTransport;
import io.vertx.core.net.TcpConfig;
import io.vertx.core.transport.Transport;
import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Vert.x's NIO transport, with whole event-bus frames handed to the clustered event bus.
 *
 * <p>The clustered event bus reads each connection through a {@code RecordParser} that appends the
 * socket's reads (at most 64 KiB each) to one heap buffer, doubling it as a message arrives: a 1 MiB
 * tensor batch was copied four times on its way in, with about 7 MiB of fresh arrays zeroed for it,
 * and that, not the socket, bounded what two nodes exchanged. On the connections accepted by this
 * node's event-bus server, a Netty {@link LengthFieldBasedFrameDecoder} placed right before Vert.x's
 * own handler gathers the reads of one frame (Vert.x's own framing: a big-endian int32 length, then
 * that many bytes) without copying them, so the parser receives each frame whole: three copies, each
 * into an array of the frame's size. The bytes Vert.x sees are the same; only their chunking changes.
 * A partial frame now waits in Netty's pooled direct buffers rather than on the heap. A length field
 * past 2^31 - 1 (a negative int, which Vert.x's parser would choke on) closes that connection.
 *
 * <p>A connection is framed when it was accepted on the event-bus port ({@link #eventBusPort}, known
 * once the clustered Vert.x is built; peers connect only later, when they have messages for this
 * node) and Vert.x's handler is in place when the connection is set up, which is so for plain TCP: a
 * TLS or proxy-protocol connection, whose handler comes after its handshake, is left as Vert.x made
 * it. Everything else (event loops, channels, other servers and clients) is Vert.x's NIO transport,
 * given through the {@code VertxBuilder.withTransport} hook.
 */
final class FramedBusTransport implements Transport {
    /** The name Vert.x gives the handler that feeds a server connection to its {@code NetSocket}. */
    private static final String VERTX_HANDLER = "handler";

    private final Spi spi = new Spi();
    /** The port of this node's event-bus server, once known; -1 before. */
    private volatile int eventBusPort = -1;
    private final AtomicInteger framed = new AtomicInteger();
    private final AtomicLong frames = new AtomicLong();

    void eventBusPort(int port) {
        eventBusPort = port;
    }

    /** How many connections to this node's event-bus server were framed so far. */
    int framedConnections() {
        return framed.get();
    }

    /** How many whole frames those connections handed to Vert.x so far. */
    long frames() {
        return frames.get();
    }

    @Override
    public String name() {
        return "nio";
    }

    @Override
    public boolean available() {
        return true;
    }

    @Override
    public Throwable unavailabilityCause() {
        return null;
    }

    @Override
    public io.vertx.core.spi.transport.Transport implementation() {
        return spi;
    }

    /** Vert.x's NIO transport (so Vert.x still sees NIO), with the event-bus server's connections framed. */
    private final class Spi extends NioTransport {
        @Override
        public void configure(TcpConfig config, boolean domainSocket, ServerBootstrap bootstrap) {
            super.configure(config, domainSocket, bootstrap);
            ChannelHandler vertx = bootstrap.config().childHandler();
            bootstrap.childHandler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ChannelPipeline pipeline = ch.pipeline();
                    pipeline.addLast(vertx); // Vert.x's initializer runs now: a plain TCP connection gets its handler at once
                    if (ch.localAddress() instanceof InetSocketAddress local && local.getPort() == eventBusPort
                            && pipeline.get(VERTX_HANDLER) != null) {
                        LengthFieldBasedFrameDecoder decoder = new LengthFieldBasedFrameDecoder(Integer.MAX_VALUE, 0, 4) {
                            @Override
                            protected Object decode(ChannelHandlerContext ctx, ByteBuf in) throws Exception {
                                Object frame = super.decode(ctx, in);
                                if (frame != null) {
                                    frames.incrementAndGet();
                                }
                                return frame;
                            }
                        };
                        decoder.setCumulator(ByteToMessageDecoder.COMPOSITE_CUMULATOR); // a frame's reads are gathered, not copied
                        pipeline.addBefore(VERTX_HANDLER, "cortado-event-bus-frames", decoder);
                        framed.incrementAndGet();
                    }
                }
            });
        }
    }
}
