package org.cortado.cluster;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.InternetProtocolFamily;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.ssl.SslHandler;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.TcpConfig;
import io.vertx.core.transport.Transport;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Vert.x's NIO transport, with whole event-bus frames handed to the clustered event bus.
 *
 * <p>The clustered event bus reads each connection through a {@code RecordParser} that appends the
 * socket's reads (at most 64 KiB each) to one heap buffer, doubling it as a message arrives: a 1 MiB
 * tensor batch was copied four times on its way in, with about 7 MiB of fresh arrays zeroed for it,
 * and that, not the socket, bounded what two nodes exchanged. On the connections accepted by this
 * node's event-bus server (and only those: the port is {@link #eventBusPort}), a Netty
 * {@link LengthFieldBasedFrameDecoder} placed before Vert.x's handlers gathers the reads of one frame
 * (Vert.x's own framing: a big-endian int32 length, then that many bytes) without copying them, so the
 * parser receives each frame whole: three copies, each into an array of the frame's size. The bytes
 * Vert.x sees are the same; only their chunking changes. Bytes that are not such a frame (a negative
 * or oversized length) close that connection, and only that one.
 *
 * <p>Everything else (event loops, channels, other servers and clients) is Vert.x's NIO transport
 * unchanged, through the {@code VertxBuilder.withTransport} hook Vert.x provides for transports.
 */
final class FramedBusTransport implements Transport {
    private final io.vertx.core.spi.transport.Transport nio = Transport.NIO.implementation();
    private final Spi spi = new Spi();
    /** The port of this node's event-bus server, once known; -1 before (connections then go unframed, only slower). */
    private volatile int eventBusPort = -1;
    private final AtomicInteger framed = new AtomicInteger();

    void eventBusPort(int port) {
        eventBusPort = port;
    }

    /** How many connections to this node's event-bus server were framed so far. */
    int framedConnections() {
        return framed.get();
    }

    @Override
    public String name() {
        return "nio (event-bus frames whole)";
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

    /** Frames the connection when it was accepted on the event-bus port and carries no TLS; else steps aside. */
    @ChannelHandler.Sharable
    private final class FrameEventBusConnections extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) throws Exception {
            var pipeline = ctx.pipeline();
            if (ctx.channel().localAddress() instanceof InetSocketAddress local && local.getPort() == eventBusPort
                    && pipeline.get(SslHandler.class) == null) {
                LengthFieldBasedFrameDecoder frames = new LengthFieldBasedFrameDecoder(Integer.MAX_VALUE, 0, 4);
                frames.setCumulator(ByteToMessageDecoder.COMPOSITE_CUMULATOR); // a frame's reads are gathered, not copied
                pipeline.replace(this, "cortado-event-bus-frames", frames);
                framed.incrementAndGet();
            } else {
                pipeline.remove(this);
            }
            ctx.fireChannelActive();
        }
    }

    private final class Spi implements io.vertx.core.spi.transport.Transport {
        private final FrameEventBusConnections framing = new FrameEventBusConnections();

        @Override
        public void configure(TcpConfig config, boolean domainSocket, ServerBootstrap bootstrap) {
            nio.configure(config, domainSocket, bootstrap);
            ChannelHandler vertx = bootstrap.config().childHandler();
            bootstrap.childHandler(new ChannelInitializer<Channel>() {
                @Override
                protected void initChannel(Channel ch) {
                    ch.pipeline().addLast(framing, vertx);
                }
            });
        }

        @Override
        public void configure(TcpConfig config, boolean domainSocket, Bootstrap bootstrap) {
            nio.configure(config, domainSocket, bootstrap);
        }

        @Override
        public void configure(DatagramChannel channel, DatagramSocketOptions options) {
            nio.configure(channel, options);
        }

        @Override
        public boolean supportsDomainSockets() {
            return nio.supportsDomainSockets();
        }

        @Override
        public boolean supportFileRegion() {
            return nio.supportFileRegion();
        }

        @Override
        public SocketAddress convert(io.vertx.core.net.SocketAddress address) {
            return nio.convert(address);
        }

        @Override
        public io.vertx.core.net.SocketAddress convert(SocketAddress address) {
            return nio.convert(address);
        }

        @Override
        public IoHandlerFactory ioHandlerFactory() {
            return nio.ioHandlerFactory();
        }

        @Override
        public EventLoopGroup eventLoopGroup(int type, int nThreads, ThreadFactory threadFactory, int ioRatio) {
            return nio.eventLoopGroup(type, nThreads, threadFactory, ioRatio);
        }

        @Override
        public DatagramChannel datagramChannel(InternetProtocolFamily family) {
            return nio.datagramChannel(family);
        }

        @Override
        public ChannelFactory<? extends DatagramChannel> datagramChannelFactory() {
            return nio.datagramChannelFactory();
        }

        @Override
        public ChannelFactory<? extends Channel> channelFactory(boolean domainSocket) {
            return nio.channelFactory(domainSocket);
        }

        @Override
        public ChannelFactory<? extends ServerChannel> serverChannelFactory(boolean domainSocket) {
            return nio.serverChannelFactory(domainSocket);
        }
    }
}
