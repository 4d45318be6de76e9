package dev.tuneloop.stack;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Local TCP ports: a free one chosen by the kernel, or a requested one checked before a server is started on it. */
public final class Ports {
    private Ports() {}

    /**
     * {@code requested} when it is free on 127.0.0.1, a free port when {@code requested} is 0; a busy requested port is
     * an error naming it and its user ({@code what}).
     */
    public static int choose(int requested, String what) {
        if (requested < 0 || requested > 65535) {
            throw new IllegalArgumentException(what + " port must be in 0..65535 (0 = any free port), got " + requested);
        }
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(false);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), requested));
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException("port " + requested + " for " + what + " is busy on 127.0.0.1 ("
                    + e.getMessage() + "); choose another one or 0 for any free port", e);
        }
    }
}
