package org.cortado.dashboard;

import static org.cortado.dashboard.DashboardTesting.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser: Debian's headless Chromium, driven through its chromedriver
 * (Selenium never downloads one), on a real training. Screenshots go to
 * {@code target/screenshots/}. Skips, saying why, when Chromium or its driver is not installed
 * ({@code ./run-tests} installs both as root); {@code CORTADO_CHROMIUM} and {@code CORTADO_CHROMEDRIVER}
 * point elsewhere.
 */
class DashboardBrowserTest {
    static final Path SHOTS = Path.of("target", "screenshots");

    @TempDir
    Path dir;
    WebDriver browser;

    /** Selenium warns that it has no CDP bindings for this Chromium; these tests use WebDriver only. */
    private static final java.util.logging.Logger CDP_LOG = java.util.logging.Logger.getLogger("org.openqa.selenium.devtools");

    @BeforeEach
    void openBrowser() throws Exception {
        CDP_LOG.setLevel(java.util.logging.Level.SEVERE);
        String chromium = System.getenv().getOrDefault("CORTADO_CHROMIUM", "/usr/bin/chromium");
        String driver = System.getenv().getOrDefault("CORTADO_CHROMEDRIVER", "/usr/bin/chromedriver");
        Assumptions.assumeTrue(new File(chromium).canExecute() && new File(driver).canExecute(),
                "no browser for the dashboard tests: " + chromium + " or " + driver + " is missing"
                        + " (install Debian's chromium and chromium-driver; ./run-tests does as root)");
        ChromeOptions options = new ChromeOptions().setBinary(chromium)
                .addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1300");
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(new File(driver)).build();
        browser = new ChromeDriver(service, options);
        Files.createDirectories(SHOTS);
    }

    @AfterEach
    void closeBrowser() {
        if (browser != null) {
            browser.quit();
        }
    }

    private Object js(String script) {
        return ((JavascriptExecutor) browser).executeScript(script);
    }

    private void screenshot(String name) throws Exception {
        Path png = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE).toPath();
        Files.copy(png, SHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
    }

    /** Clicks a run in the runs list, which the live updates redraw: found again when a redraw took it. */
    private void clickRun(String run) {
        waitUpTo(10).ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(b -> {
            b.findElement(By.cssSelector("#runs li[data-run='" + run + "']")).click();
            return true;
        });
    }

    private WebDriverWait waitUpTo(int seconds) {
        return new WebDriverWait(browser, Duration.ofSeconds(seconds), Duration.ofMillis(100));
    }

    /** The browser console's errors so far. */
    private java.util.List<String> severe() {
        return browser.manage().logs().get("browser").getAll().stream()
                .filter(e -> e.getLevel().intValue() >= java.util.logging.Level.SEVERE.intValue()).map(Object::toString).toList();
    }

    private String text(String id) {
        return browser.findElement(By.id(id)).getText();
    }

    private static io.vertx.core.json.JsonObject member(String node, String address, String role, String state, int loaders,
                                                        long batches, double rate) {
        return new io.vertx.core.json.JsonObject().put("node", node).put("address", address).put("role", role).put("state", state)
                .put("loaders", loaders).put("augmenters", loaders).put("batches", batches).put("batches_per_sec", rate);
    }

    @Test
    void watchesPausesRetunesAndStopsARun() throws Exception {
        Path config = DashboardTesting.config(dir, 1_000_000, "{\"port\": 0}");
        // An earlier run to compare with.
        Path earlier = Files.createDirectories(dir.resolve("runs").resolve("earlier-20260101-000000"));
        Files.writeString(earlier.resolve("config.json"), "{\"version\": 1}");
        Files.writeString(earlier.resolve("status.json"), "{\"status\": \"finished\", \"iter\": 400}");
        StringBuilder lines = new StringBuilder();
        for (int s = 1; s <= 400; s++) {
            lines.append(new io.vertx.core.json.JsonObject().put("step", s).put("loss", 2.0 / s).encode()).append('\n');
        }
        Files.writeString(earlier.resolve("metrics.jsonl"), lines);
        Files.setLastModifiedTime(earlier.resolve("config.json"), java.nio.file.attribute.FileTime.fromMillis(0));
        // A clustered run of another process: its members table is in its status.json.
        Path clustered = Files.createDirectories(dir.resolve("runs").resolve("clustered-20260101-000100"));
        Files.writeString(clustered.resolve("config.json"), "{\"version\": 1}");
        Files.writeString(clustered.resolve("status.json"), new io.vertx.core.json.JsonObject().put("status", "finished").put("iter", 50)
                .put("cluster", new io.vertx.core.json.JsonObject().put("name", "cortado").put("time", 1767225660000L).put("members",
                        new io.vertx.core.json.JsonArray()
                                .add(member("101@a", "10.0.0.1:5701", "coordinator", "up", 1, 40, 12.5))
                                .add(member("202@b", "10.0.0.2:5701", "worker", "up", 2, 900, 30.0))
                                .add(member("303@c", "10.0.0.3:5701", "worker", "left", 2, 77, 0.0)))).encode());
        Files.setLastModifiedTime(clustered.resolve("config.json"), java.nio.file.attribute.FileTime.fromMillis(1000));
        var t = new DashboardTesting.Training("train", config.toString(), "--runs", dir.resolve("runs").toString());
        String base = t.url();
        String id = Path.of(t.runFolder()).getFileName().toString();
        try {
            browser.get(base + "/");
            // The loss chart fills from the live stream.
            waitUpTo(60).until(b -> ((Number) js("const c = window.cortado.charts.loss;"
                    + " return c ? c.data[0].length : 0;")).intValue() > 20);
            assertEquals(id, text("run-title"));
            assertEquals("running", text("status"));
            screenshot("dashboard-running");

            // Compare with the earlier run: its smoothed loss joins the loss chart.
            new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("compare"))).selectByValue("earlier-20260101-000000");
            waitUpTo(20).until(b -> ((Number) js("const c = window.cortado.charts.loss; return c.series.length;")).intValue() == 4);
            waitUpTo(20).until(b -> ((Number) js("const c = window.cortado.charts.loss;"
                    + " return c.data[3].filter(v => v !== null).length;")).intValue() >= 400);
            screenshot("dashboard-compare");
            new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("compare"))).selectByValue("");

            browser.findElement(By.id("btn-pause")).click();
            waitUpTo(20).until(b -> text("status").equals("paused"));
            Thread.sleep(700);
            long paused = get(base + "/api/runs/" + id).json().getLong("iter");
            Thread.sleep(1000);
            assertEquals(paused, get(base + "/api/runs/" + id).json().getLong("iter"), "the run paused");
            assertTrue(browser.findElement(By.id("btn-resume")).isEnabled());

            browser.findElement(By.id("lr-input")).sendKeys("0.0123");
            browser.findElement(By.id("btn-lr")).click();
            waitUpTo(20).until(b -> text("control-msg").startsWith("lr 0.01230 from step"));
            browser.findElement(By.id("btn-resume")).click();
            // The new value arrives with the metrics of the next steps.
            waitUpTo(60).until(b -> "0.0123".equals(browser.findElement(By.id("latest")).getDomAttribute("data-lr")));
            assertEquals("running", text("status"));
            Thread.sleep(600); // a few more points on the charts
            screenshot("dashboard-new-lr");

            // Per-layer view: the charts and the histograms of the newest sample.
            browser.findElement(By.cssSelector("#tabs button[data-tab=layers]")).click();
            waitUpTo(60).until(b -> ((Number) js("const c = window.cortado.layerCharts.ratio;"
                    + " return c ? c.data[0].length : 0;")).intValue() >= 2);
            waitUpTo(20).until(b -> !browser.findElements(By.cssSelector("#histograms .histogram")).isEmpty());
            assertTrue(text("layer-chart-ratio").contains("conv1/0"), "a series per param: " + text("layer-chart-ratio"));
            screenshot("dashboard-layers");

            // The net as a graph: a node per layer and per input blob.
            browser.findElement(By.cssSelector("#tabs button[data-tab=net]")).click();
            waitUpTo(20).until(b -> ((Number) js("const cy = window.cortado.state.cy; return cy ? cy.nodes().length : 0;"))
                    .intValue() > 0);
            long layers = browser.findElements(By.cssSelector("#net-table tbody tr")).size();
            assertEquals(layers, ((Number) js("return window.cortado.state.cy.nodes('[type != \"input\"]').length;")).longValue());
            assertTrue(text("net-summary").contains("parameters"), text("net-summary"));
            screenshot("dashboard-net");

            // The clustered run: a Cluster tab with its members, the one that left greyed.
            assertTrue(browser.findElement(By.id("tab-button-cluster")).getDomAttribute("hidden") != null, "no Cluster tab for this run");
            browser.findElement(By.cssSelector("#tabs button[data-tab=charts]")).click(); // (the fake run has no net.json)
            clickRun("clustered-20260101-000100");
            waitUpTo(20).until(b -> b.findElement(By.id("tab-button-cluster")).isDisplayed());
            browser.findElement(By.id("tab-button-cluster")).click();
            waitUpTo(20).until(b -> b.findElements(By.cssSelector("#cluster-table tbody tr")).size() == 3);
            assertTrue(text("cluster-summary").startsWith("cluster \"cortado\": 2 members up, 42.5 batches/s in all"), text("cluster-summary"));
            var rows = browser.findElements(By.cssSelector("#cluster-table tbody tr"));
            assertEquals("202@b 10.0.0.2:5701 worker up 2 2 900 30.0", rows.get(1).getText());
            assertEquals("left", rows.get(2).getDomAttribute("class"));
            screenshot("dashboard-cluster");
            clickRun(id);
            waitUpTo(20).until(b -> !b.findElement(By.id("tab-button-cluster")).isDisplayed() && text("status").equals("running"));
            assertTrue(browser.findElement(By.id("tab-charts")).isDisplayed(), "back on the charts");

            assertEquals(java.util.List.of(), severe(), "no errors in the browser's console (the launch below logs its 400)");

            // Launch a config with errors: each problem shows with its JSON path, and nothing starts.
            browser.findElement(By.cssSelector("#tabs button[data-tab=launch]")).click();
            waitUpTo(20).until(b -> browser.findElements(By.cssSelector("#launch-pick option")).size() > 1);
            new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("launch-pick"))).selectByValue("tiny.json");
            waitUpTo(20).until(b -> ((String) js("return document.getElementById('launch-text').value;")).contains("\"solver\""));
            js("const t = document.getElementById('launch-text'); const c = JSON.parse(t.value);"
                    + " c.solver.base_lr = -1; c.net.layers[1].kernel_size = 0; t.value = JSON.stringify(c, null, 2);");
            browser.findElement(By.id("btn-launch")).click();
            waitUpTo(30).until(b -> browser.findElements(By.cssSelector("#launch-errors li")).size() >= 2);
            String errors = text("launch-errors");
            assertTrue(errors.contains("solver.base_lr"), errors);
            assertTrue(errors.contains("net.layers[1].kernel_size"), errors);
            screenshot("dashboard-launch-errors");
            try (var folders = Files.list(dir.resolve("runs"))) {
                assertEquals(3, folders.count(), "the refused config started nothing");
            }

            browser.findElement(By.cssSelector("#tabs button[data-tab=charts]")).click();
            browser.findElement(By.id("btn-stop")).click();
            assertEquals(0, t.join(), t.output());
            assertTrue(t.output().contains("run stopped"), t.output());
        } catch (Throwable e) {
            screenshot("dashboard-failure");
            throw new AssertionError(e.getMessage() + "\nbrowser console: " + browser.manage().logs().get("browser").getAll(), e);
        } finally {
            if (t.thread.isAlive()) {
                DashboardTesting.post(base + "/api/runs/" + id + "/control", "{\"action\": \"stop\"}");
                t.join();
            }
        }
    }
}
