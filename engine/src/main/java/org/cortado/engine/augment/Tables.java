package org.cortado.engine.augment;

/**
 * The separable geometry of one sample: for each output row the source row, for each output column
 * the source column, in the coordinates of the input of a run of geometric steps. Pad, crops and flips
 * act on rows and columns independently, so a whole run of them composes into these two tables and the
 * image is read once, {@code out(c, y, x) = in(c, rows[y], cols[x])}, with no intermediate image.
 *
 * <p>A negative entry is a constant fill: {@code -(slot + 1)} names the padding step (its slot, in
 * step order) whose fill value the pixel takes. A pixel whose row and column are both fills takes the
 * later step's fill (the smaller entry), because the later padding surrounds the earlier one.
 */
final class Tables {
    /** Source row per output row, or a fill code; valid in {@code [0, h)}. */
    final int[] rows;
    /** Source column per output column, or a fill code; valid in {@code [0, w)}. */
    final int[] cols;
    int h;
    int w;
    private final int[] tmp;

    /** Tables for images up to {@code maxDim} rows or columns at any point of a run. */
    Tables(int maxDim) {
        rows = new int[maxDim];
        cols = new int[maxDim];
        tmp = new int[maxDim];
    }

    /** The identity of an {@code h x w} image. */
    void identity(int h, int w) {
        this.h = h;
        this.w = w;
        for (int i = 0; i < h; i++) {
            rows[i] = i;
        }
        for (int i = 0; i < w; i++) {
            cols[i] = i;
        }
    }

    /** Keeps rows {@code [top, top + ch)} and columns {@code [left, left + cw)}. */
    void crop(int top, int left, int ch, int cw) {
        System.arraycopy(rows, top, rows, 0, ch);
        System.arraycopy(cols, left, cols, 0, cw);
        h = ch;
        w = cw;
    }

    void flipRows() {
        reverse(rows, h);
    }

    void flipCols() {
        reverse(cols, w);
    }

    /** Pads by the given amounts; {@code fillCode} is what {@link Padding.Mode#CONSTANT} writes. */
    void pad(int top, int bottom, int left, int right, Padding.Mode mode, int fillCode) {
        h = padAxis(rows, h, top, bottom, mode, fillCode);
        w = padAxis(cols, w, left, right, mode, fillCode);
    }

    /**
     * Replaces the rows by {@code rows[local[i]]}: {@code local} maps a step's output rows to its input
     * rows and holds no fill codes (the caffe step only crops and mirrors).
     */
    void composeRows(int[] local, int n) {
        System.arraycopy(rows, 0, tmp, 0, h);
        for (int i = 0; i < n; i++) {
            rows[i] = tmp[local[i]];
        }
        h = n;
    }

    void composeCols(int[] local, int n) {
        System.arraycopy(cols, 0, tmp, 0, w);
        for (int i = 0; i < n; i++) {
            cols[i] = tmp[local[i]];
        }
        w = n;
    }

    private int padAxis(int[] t, int n, int before, int after, Padding.Mode mode, int fillCode) {
        if (before == 0 && after == 0) {
            return n;
        }
        System.arraycopy(t, 0, tmp, 0, n);
        int m = n + before + after;
        for (int i = 0; i < m; i++) {
            int q = Padding.source(i - before, n, mode);
            t[i] = q < 0 ? fillCode : tmp[q];
        }
        return m;
    }

    private static void reverse(int[] a, int n) {
        for (int i = 0, j = n - 1; i < j; i++, j--) {
            int s = a[i];
            a[i] = a[j];
            a[j] = s;
        }
    }
}
