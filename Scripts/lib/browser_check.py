"""The web desk in headless Chromium; see Scripts/browser-check. Exits non-zero on any failure."""
import hashlib, os, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from desknet import Network, PROVINCE, DISTRICT, COMMUNE, ROOT
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.support.ui import Select, WebDriverWait as _Wait

def WebDriverWait(driver, timeout):
    # A click starts a navigation: an element found just before it may go stale while it loads.
    return _Wait(driver, timeout, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


SHOTS = os.path.join(ROOT, ".build", "screenshots")
SUBJECT = "Chỉ thị về việc ứng phó khẩn cấp với mưa lũ"


def browser(downloads):
    options = webdriver.ChromeOptions()
    for arg in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                "--lang=vi-VN", "--disable-gpu"]:
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": downloads,
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": downloads})
    return driver


def sign_in(driver, desk, name, password):
    driver.get(desk + "/van-ban-den")
    assert "/dang-nhap" in driver.current_url, driver.current_url
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()
    WebDriverWait(driver, 10).until(lambda d: "/van-ban-den" in d.current_url)
    assert "Văn bản đến" in driver.page_source


def wait(what, condition, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError("timed out waiting: " + what)


net = Network()
drivers = []
try:
    os.makedirs(SHOTS, exist_ok=True)
    desks = net.start(PROVINCE, DISTRICT, COMMUNE)
    net.user(COMMUNE, "vanthu-xa", "clerk", "mat-khau-xa-1")
    net.user(PROVINCE, "vanthu-tinh", "clerk", "mat-khau-tinh-1")
    # Ordinary documents first, so the directive has something to stand above.
    note = os.path.join(net.dir, "giay-moi.txt")
    with open(note, "w") as f:
        f.write("Giấy mời họp giao ban\n")
    for subject in ["Giấy mời họp giao ban tháng 12", "Thông báo lịch trực Tết"]:
        net.cli("send", "--to", COMMUNE, "--subject", subject, "--file", note, home=PROVINCE)
    attachment = os.path.join(net.dir, "chi-thi-mua-lu.pdf")
    with open(attachment, "wb") as f:
        f.write(b"%PDF-1.4\n" + os.urandom(150_000))

    # The province's clerk composes the directive in the browser.
    province = browser(os.path.join(net.dir, "dl-tinh"))
    drivers.append(province)
    sign_in(province, desks[PROVINCE], "vanthu-tinh", "mat-khau-tinh-1")
    province.get(desks[PROVINCE] + "/van-ban-di/soan")
    province.find_element(By.CSS_SELECTOR, f"input[name=to][value='{COMMUNE}']").click()
    province.find_element(By.NAME, "subject").send_keys(SUBJECT)
    province.find_element(By.NAME, "codeNumber").send_keys("15")
    province.find_element(By.NAME, "codeNotation").send_keys("CT-UBND")
    Select(province.find_element(By.NAME, "documentType")).select_by_visible_text("Chỉ thị")
    Select(province.find_element(By.NAME, "urgency")).select_by_value("hoa-toc")
    province.find_element(By.NAME, "file").send_keys(attachment)
    province.find_element(By.CSS_SELECTOR, "form.compose button[type=submit]").click()
    WebDriverWait(province, 30).until(lambda d: "/van-ban-di/" in d.current_url and "soan" not in d.current_url)
    tracking_url = province.current_url
    print("browser-check: the province sent the directive:", tracking_url.rsplit("/", 1)[-1][:16])

    # The commune's clerk finds it at the top of the inbox, in bold and marked Hỏa tốc.
    downloads = os.path.join(net.dir, "dl-xa")
    os.makedirs(downloads)
    commune = browser(downloads)
    drivers.append(commune)
    sign_in(commune, desks[COMMUNE], "vanthu-xa", "mat-khau-xa-1")

    def arrived():
        commune.get(desks[COMMUNE] + "/van-ban-den")
        return SUBJECT in commune.page_source
    wait("the directive in the commune's inbox", arrived)
    rows = commune.find_elements(By.CSS_SELECTOR, "#inbox tbody tr")
    assert len(rows) == 3, len(rows)
    first = rows[0]
    assert SUBJECT in first.text and "Hỏa tốc" in first.text, first.text
    assert "unread" in first.get_attribute("class") and "hoa-toc" in first.get_attribute("class")
    weight = first.find_element(By.TAG_NAME, "td").value_of_css_property("font-weight")
    assert weight in ("700", "bold"), weight
    commune.save_screenshot(os.path.join(SHOTS, "desk-inbox.png"))

    first.find_element(By.TAG_NAME, "a").click()
    WebDriverWait(commune, 10).until(lambda d: d.find_elements(By.ID, "subject"))
    assert commune.find_element(By.ID, "subject").text == SUBJECT
    assert commune.find_element(By.ID, "reference").text == "15/CT-UBND"
    commune.save_screenshot(os.path.join(SHOTS, "desk-document.png"))
    commune.find_element(By.LINK_TEXT, "chi-thi-mua-lu.pdf").click()
    target = os.path.join(downloads, "chi-thi-mua-lu.pdf")
    wait("the attachment download", lambda: os.path.exists(target) and os.path.getsize(target) == os.path.getsize(attachment))
    digest = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
    assert digest(target) == digest(attachment), "downloaded bytes differ"
    print("browser-check: attachment downloaded, bytes identical")

    commune.find_element(By.ID, "tiep-nhan").click()
    WebDriverWait(commune, 10).until(lambda d: "03 đã tiếp nhận" in d.find_element(By.ID, "status").text)

    # The province's tracking page shows 03 for that commune (it refreshes by itself).
    province.get(tracking_url)
    def shows_accepted():
        province.refresh()
        cells = province.find_elements(By.CSS_SELECTOR, f"#tracking tr[data-recipient='{COMMUNE}'] td.status")
        return cells and cells[0].get_attribute("data-status") == "03"
    wait("03 on the province's tracking page", shows_accepted)
    assert "Phường Thái Bình" in province.page_source
    province.save_screenshot(os.path.join(SHOTS, "desk-tracking.png"))
    print("browser-check: passed; screenshots in", SHOTS)
except Exception:
    for d in drivers:
        try:
            d.save_screenshot(os.path.join(SHOTS, f"failure-{drivers.index(d)}.png"))
        except Exception:
            pass
    print("browser-check: FAILED; logs in", net.dir)
    raise
finally:
    for d in drivers:
        d.quit()
    net.stop()
    if os.environ.get("LT_KEEP") is None:
        net.remove()
