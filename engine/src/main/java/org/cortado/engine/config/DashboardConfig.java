package org.cortado.engine.config;

/**
 * The {@code dashboard} section: where {@code cortado train} serves its live dashboard.
 *
 * <pre>{@code
 * "dashboard": {
 *   "enabled": true,        // false: no HTTP server at all
 *   "host": "127.0.0.1",    // the address to bind; anything but loopback makes control and launch need the token
 *   "port": 8080,           // 0: any free port (the URL printed at start names it)
 *   "token": "...",         // the token for control and launch when not on loopback (default: a random one, printed at start)
 *   "open_read": false,     // when not on loopback: true lets anyone read (charts, runs, configs) without the token
 *   "layer_stats_every": 50 // steps between per-layer samples (norms, update:param ratios, histograms; layers.jsonl); 0: none
 * }
 * }</pre>
 */
public record DashboardConfig(boolean enabled, String host, int port, String token, boolean openRead, int layerStatsEvery) {

    public static final DashboardConfig DEFAULT = new DashboardConfig(true, "127.0.0.1", 8080, null, false, 50);

    /** Reads the {@code dashboard} section of {@code root} (defaults when absent). */
    public static DashboardConfig parse(Json root) {
        var d = root.optObject("dashboard");
        if (d.isEmpty()) {
            return DEFAULT;
        }
        Json j = d.get();
        boolean enabled = j.getBool("enabled", DEFAULT.enabled());
        String host = j.getString("host", DEFAULT.host());
        if (host.isBlank()) {
            throw j.error("host", "must name an address to bind, e.g. \"127.0.0.1\" or \"0.0.0.0\"");
        }
        int port = j.nonNegative("port", j.getInt("port", DEFAULT.port()));
        if (port > 65535) {
            throw j.error("port", "must be a TCP port (0-65535), got " + port);
        }
        String token = j.getString("token", null);
        if (token != null && token.length() < 8) {
            throw j.error("token", "must be at least 8 characters (it guards control of the run)");
        }
        boolean openRead = j.getBool("open_read", DEFAULT.openRead());
        int every = j.nonNegative("layer_stats_every", j.getInt("layer_stats_every", DEFAULT.layerStatsEvery()));
        j.rejectUnknown();
        return new DashboardConfig(enabled, host, port, token, openRead, every);
    }

    /** True when the host is a loopback address (no token needed). */
    public boolean loopback() {
        return isLoopback(host);
    }

    public static boolean isLoopback(String host) {
        return host.equals("localhost") || host.equals("::1") || host.equals("[::1]") || host.startsWith("127.");
    }

}
