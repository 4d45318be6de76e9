package dev.tuneloop.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A TCP proxy on a free port of 127.0.0.1 in front of a real server (e.g. {@link S3ProxyServer}) that a test can cut:
 * when a client sends bytes containing a trigger (an HTTP request line such as {@code PUT /bucket/key}), the proxy
 * forwards them (or drops them: {@link #cutBeforeSent}), then closes every connection and its listening port for the
 * outage (clients get "connection refused"), and listens again on the same port afterwards. A real network outage
 * seen from the client, mid-request.
 */
public final class CuttableProxy implements AutoCloseable {
    private final InetSocketAddress target;
    private final int port;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private volatile ServerSocket listener;
    private volatile boolean closed;
    private volatile String trigger;
    private volatile boolean forwardTrigger;
    private volatile Duration outage;
    private volatile Instant cutAt;
    private volatile Instant restoredAt;

    private CuttableProxy(InetSocketAddress target, ServerSocket listener) {
        this.target = target;
        this.listener = listener;
        this.port = listener.getLocalPort();
        this.acceptor = new Thread(this::acceptLoop, "cuttable-proxy-" + port);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Forwards 127.0.0.1:{@link #port()} to {@code targetPort} on 127.0.0.1. */
    public static CuttableProxy to(int targetPort) throws IOException {
        ServerSocket listener = new ServerSocket();
        listener.setReuseAddress(true);
        listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return new CuttableProxy(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), listener);
    }

    public int port() {
        return port;
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    /** The next time a client sends {@code trigger} (ASCII), cut everything for {@code outage}. */
    public void cutWhenSent(String trigger, Duration outage) {
        this.forwardTrigger = true;
        this.outage = outage;
        this.trigger = trigger;
    }

    /**
     * Like {@link #cutWhenSent}, but the bytes carrying {@code trigger} are dropped: the request never reaches the
     * server, so no response can race the cut (a small GET's answer may otherwise arrive before the connection
     * closes).
     */
    public void cutBeforeSent(String trigger, Duration outage) {
        this.forwardTrigger = false;
        this.outage = outage;
        this.trigger = trigger;
    }

    /** When the cut happened; {@code null} before. */
    public Instant cutAt() {
        return cutAt;
    }

    /** When the port listened again; {@code null} before. */
    public Instant restoredAt() {
        return restoredAt;
    }

    private void acceptLoop() {
        while (!closed) {
            ServerSocket current = listener;
            if (current == null) {
                pause(20);
                continue;
            }
            try {
                Socket client = current.accept();
                synchronized (this) { // against cut(): a connection is either refused here or closed by the cut
                    if (listener != current) {
                        // Accepted while the cut closed the port (a blocked accept keeps it listening until it
                        // wakes up): refuse it as the closed port would have.
                        closeQuietly(client);
                        continue;
                    }
                    open.add(client);
                }
                Socket server = new Socket(target.getAddress(), target.getPort());
                open.add(server);
                pump(client, server, true);
                pump(server, client, false);
            } catch (IOException e) {
                // The listener was closed by a cut or by close(); the loop decides what comes next.
            }
        }
    }

    private void pump(Socket from, Socket to, boolean fromClient) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[64 * 1024];
            String tail = "";
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    String watched = trigger;
                    boolean hit = false;
                    if (fromClient && watched != null) {
                        String seen = tail + new String(buffer, 0, n, StandardCharsets.ISO_8859_1);
                        hit = seen.contains(watched);
                        tail = seen.substring(Math.max(0, seen.length() - watched.length()));
                    }
                    if (hit && !forwardTrigger) {
                        cut();
                        return;
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                    if (hit) {
                        cut();
                        return;
                    }
                }
            } catch (IOException e) {
                // One side went away (or the cut closed it): close both.
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                open.remove(from);
                open.remove(to);
            }
        }, "cuttable-proxy-pump-" + port);
        t.setDaemon(true);
        t.start();
    }

    private synchronized void cut() {
        if (trigger == null) {
            return;
        }
        trigger = null;
        cutAt = Instant.now();
        ServerSocket current = listener;
        listener = null;
        closeQuietly(current);
        open.forEach(CuttableProxy::closeQuietly);
        open.clear();
        Thread restore = new Thread(() -> {
            pause(outage.toMillis());
            while (!closed) {
                try {
                    ServerSocket again = new ServerSocket();
                    again.setReuseAddress(true);
                    again.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                    listener = again;
                    restoredAt = Instant.now();
                    return;
                } catch (IOException e) {
                    pause(50); // the port is still being released
                }
            }
        }, "cuttable-proxy-restore-" + port);
        restore.setDaemon(true);
        restore.start();
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            // closing on the way out
        }
    }

    @Override
    public void close() {
        closed = true;
        closeQuietly(listener);
        open.forEach(CuttableProxy::closeQuietly);
    }
}
