package org.cortado.cli;

import java.io.PrintWriter;
import org.cortado.engine.data.Progress;

/**
 * Draws {@link Progress} for long CLI work: on a terminal, one line redrawn in place with a bar,
 * rate and ETA (at most 10 times a second); otherwise (a log, a pipe, CI) a plain line every 10%
 * of the way, or every 10 seconds, whichever comes first. Goes to stderr, so {@code --json} output
 * on stdout stays clean. "A terminal" is what {@code System.console().isTerminal()} says of stdin
 * and stdout: Java cannot ask about stderr alone, so {@code 2>log} on a terminal still gets the
 * redrawn bar (carriage returns), and {@code >out.json} gets plain lines.
 */
final class ProgressBar implements Progress, AutoCloseable {
    private static final int WIDTH = 30;

    private final PrintWriter err;
    private final String label;
    private final String unit;
    private final boolean terminal;
    private final long start = System.nanoTime();
    private long lastDraw;
    private long lastDone = -1;
    private int lastTenth = -1;
    private boolean drewInPlace;

    ProgressBar(PrintWriter err, String label, String unit) {
        this(err, label, unit, System.console() != null && System.console().isTerminal());
    }

    ProgressBar(PrintWriter err, String label, String unit, boolean terminal) {
        this.err = err;
        this.label = label;
        this.unit = unit;
        this.terminal = terminal;
    }

    @Override
    public synchronized void update(long done, long total) {
        long now = System.nanoTime();
        boolean finished = total > 0 && done >= total;
        if (terminal) {
            if (finished || now - lastDraw > 100_000_000L) {
                err.print("\r" + line(done, total, now) + "\u001b[K");
                err.flush();
                drewInPlace = true;
                lastDraw = now;
            }
        } else {
            int tenth = total > 0 ? (int) (10 * done / total) : -1;
            if (done != lastDone && (tenth > lastTenth || now - lastDraw > 10_000_000_000L || finished)) {
                err.println(line(done, total, now));
                err.flush();
                lastDraw = now;
                lastTenth = tenth;
            }
        }
        lastDone = done;
    }

    String line(long done, long total, long now) {
        double secs = Math.max(1e-9, (now - start) / 1e9);
        double rate = done / secs;
        StringBuilder s = new StringBuilder(label).append(' ');
        if (total > 0) {
            int filled = (int) Math.min(WIDTH, WIDTH * done / total);
            if (terminal) {
                s.append('[').append("#".repeat(filled)).append(".".repeat(WIDTH - filled)).append("] ");
            }
            s.append(String.format("%3d%% %,d/%,d %s", 100 * done / total, done, total, unit));
        } else {
            s.append(String.format("%,d %s", done, unit));
        }
        s.append(String.format(", %,.0f %s/s", rate, unit));
        if (total > 0 && done < total && rate > 0) {
            s.append(", ETA ").append(duration((total - done) / rate));
        } else if (total > 0) {
            s.append(", ").append(duration(secs));
        }
        return s.toString();
    }

    private static String duration(double secs) {
        long s = Math.round(secs);
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60)
                : s >= 60 ? String.format("%dm%02ds", s / 60, s % 60) : String.format("%.1fs", secs);
    }

    /** Ends the in-place line so what follows starts on its own line. */
    @Override
    public synchronized void close() {
        if (drewInPlace) {
            err.println();
            err.flush();
        }
    }
}
