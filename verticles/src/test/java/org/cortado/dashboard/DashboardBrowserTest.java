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

    @BeforeEach
    void openBrowser() throws Exception {
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

    private WebDriverWait waitUpTo(int seconds) {
        return new WebDriverWait(browser, Duration.ofSeconds(seconds), Duration.ofMillis(100));
    }

    private String text(String id) {
        return browser.findElement(By.id(id)).getText();
    }

    @Test
    void watchesPausesRetunesAndStopsARun() throws Exception {
        Path config = DashboardTesting.config(dir, 1_000_000, "{\"port\": 0}");
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

            browser.findElement(By.id("btn-stop")).click();
            assertEquals(0, t.join(), t.output());
            assertTrue(t.output().contains("run stopped"), t.output());
        } finally {
            if (t.thread.isAlive()) {
                DashboardTesting.post(base + "/api/runs/" + id + "/control", "{\"action\": \"stop\"}");
                t.join();
            }
        }
    }
}
