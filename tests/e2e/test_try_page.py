"""The photo page (/try, BWS_DEMO=1 only) in Debian's headless Chromium driven by Selenium, against the real
service: enroll, verify, search and compare with fixture photos chosen in its file fields, faces boxed, the
service's scores and decisions shown; a photo with no face and a file that is no image get a clear answer.
Each step's screenshot is saved under the test's tmp dir (printed with -s)."""
from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.conftest import FACES, Service, launch_service, stop_service
from tests.e2e.browser import browser
from tests.e2e.helpers import blank, new_class_id
from tests.e2e.http import request

DONE = ("ok", "bad", "error")


@pytest.fixture(scope="module")
def try_service(tmp_path_factory, redis_server):
    started = launch_service(tmp_path_factory.mktemp("try"), redis_server.url, BWS_DEMO="1")
    yield started
    stop_service(started.process)


@pytest.fixture()
def page(try_service, tmp_path):
    driver = browser(None, tmp_path / "profile")
    driver.get(f"{try_service.http_url}/try")
    yield driver
    severe = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"
              and "/api/" not in e["message"] and "blob:" not in e["message"]]  # a refused call, a non-image
    driver.quit()
    assert severe == []  # no CSP violation, no script error


class Step:
    def __init__(self, driver: webdriver.Chrome, folder: Path) -> None:
        self.driver, self.folder = driver, folder

    def run(self, action: str, fields: dict[str, Path | str], shot: str) -> dict:
        for field, value in fields.items():
            element = self.driver.find_element(By.ID, field)
            if isinstance(value, Path):
                self.driver.execute_script("arguments[0].value = ''", element)
            else:
                element.clear()
            element.send_keys(str(value))
        outcome = self.driver.find_element(By.ID, f"{action}-outcome")
        self.driver.execute_script("arguments[0].dataset.state = ''", outcome)
        self.driver.find_element(By.ID, f"{action}-go").click()
        screenshot = self.folder / f"{shot}.png"
        try:
            WebDriverWait(self.driver, 120).until(lambda d: outcome.get_attribute("data-state") in DONE and all(
                f.get_attribute("data-drawn") for f in d.find_elements(By.CSS_SELECTOR, f"#{action}-photos figure")))
        except TimeoutException:
            self.driver.save_screenshot(str(screenshot))
            raise AssertionError(f"{action} stuck (screenshot {screenshot}): {outcome.text!r}") from None
        self.driver.execute_script("document.getElementById(arguments[0]).scrollIntoView()", action)
        self.driver.save_screenshot(str(screenshot))
        print(f"/try screenshot: {screenshot}")
        figures = self.driver.find_elements(By.CSS_SELECTOR, f"#{action}-photos figure")
        return {"state": outcome.get_attribute("data-state"),
                "decision": outcome.find_element(By.CLASS_NAME, "decision").text,
                "details": [li.text for li in outcome.find_elements(By.TAG_NAME, "li")],
                "faces": [int(f.get_attribute("data-faces")) for f in figures],
                "boxes": [len(f.find_elements(By.CSS_SELECTOR, "rect.box")) for f in figures]}


def service_score(service: Service, a: str, b: str) -> float:
    """What the REST API answers for the same comparison, as the page's first client (tenant-a)."""
    body = {"liveImages": [{"image": base64.b64encode((FACES / a).read_bytes()).decode()}],
            "photo": base64.b64encode((FACES / b).read_bytes()).decode(), "disableLivenessDetection": True}
    reply = request(service.http_url, "POST", "/api/v1/photoverify", body=body,
                    headers={"Authorization": f"Bearer {service.clients['tenant-a'].token()}"})
    assert reply.status == 200, reply.body
    return reply.json.get("verificationScore", 0.0)


def test_each_action_with_photos(page, try_service, tmp_path):
    step = Step(page, tmp_path)
    class_id = str(new_class_id())
    # Selenium sends several files to a multiple file field as one newline-separated value.
    two = Path(f"{FACES / 'obama_1.jpg'}\n{FACES / 'obama_2.jpg'}")
    enrolled = step.run("enroll", {"enroll-class": class_id, "enroll-files": two}, "1-enroll")
    assert enrolled["state"] == "ok", enrolled
    assert enrolled["decision"].startswith(f"Enrolled in class {class_id}: 2 photo(s)")
    assert enrolled["faces"] == [1, 1] and enrolled["boxes"] == [1, 1]

    same = step.run("verify", {"verify-class": class_id, "verify-files": FACES / "obama_3.jpg"}, "2-verify")
    assert same["state"] == "ok" and same["decision"].startswith("Verified: score 0."), same
    assert same["boxes"] == [1]
    other = step.run("verify", {"verify-class": class_id, "verify-files": FACES / "biden_1.jpg"}, "3-verify-other")
    assert other["state"] == "bad" and other["decision"].startswith("Not verified: score "), other

    found = step.run("search", {"search-files": FACES / "obama_3.jpg"}, "4-search")
    assert found["state"] == "ok" and any(d.startswith(f"class {class_id}: score 0.") for d in found["details"])

    match = step.run("compare", {"compare-a": FACES / "obama_1.jpg", "compare-b": FACES / "obama_2.jpg"},
                     "5-compare")
    assert match["state"] == "ok" and match["decision"].startswith("Same person: score "), match
    expected = service_score(try_service, "obama_1.jpg", "obama_2.jpg")
    assert match["decision"].split("score ")[1].split(" ")[0] == f"{expected:.3f}"
    assert match["boxes"] == [1, 1]
    differ = step.run("compare", {"compare-a": FACES / "obama_1.jpg", "compare-b": FACES / "biden_1.jpg"},
                      "6-compare-other")
    assert differ["state"] == "bad" and differ["decision"].startswith("Not the same person: score "), differ
    group = step.run("compare", {"compare-a": FACES / "obama_1.jpg", "compare-b": FACES / "group_two_faces.jpg"},
                     "7-compare-group")
    assert group["state"] == "bad" and group["faces"] == [1, 2] and group["boxes"] == [1, 2], group
    assert any("group_two_faces.jpg: 2 faces found" in d for d in group["details"]), group


def test_a_photo_without_a_face_and_a_file_that_is_no_image(page, tmp_path):
    step = Step(page, tmp_path)
    empty = tmp_path / "sky.jpg"
    empty.write_bytes(blank())
    class_id = str(new_class_id())
    no_face = step.run("enroll", {"enroll-class": class_id, "enroll-files": empty}, "1-enroll-no-face")
    assert no_face["state"] == "bad" and no_face["decision"].startswith("Not enrolled"), no_face
    assert no_face["faces"] == [0] and no_face["boxes"] == [0] and no_face["details"], no_face
    text = tmp_path / "notes.jpg"
    shutil.copy(FACES / "PROVENANCE.md", text)
    refused = step.run("compare", {"compare-a": text, "compare-b": FACES / "obama_1.jpg"}, "2-compare-not-an-image")
    assert refused["state"] == "error" and refused["details"][0].startswith("notes.jpg: not a decodable image")
    assert refused["faces"] == []
    searched = step.run("search", {"search-files": empty}, "3-search-no-face")
    assert searched["state"] == "bad" and searched["decision"] == "No match" and searched["details"], searched


def test_the_page_and_its_token_route_exist_only_in_demo_mode(service, try_service):
    for path in ("/try", "/demo/apitoken"):
        assert request(service.http_url, "GET", path).status == 404
    page = request(try_service.http_url, "GET", "/try")
    assert page.status == 200 and "connect-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert b"http://" not in page.body and b"https://" not in page.body  # nothing from a CDN
    script = request(try_service.http_url, "GET", "/web/static/try.js").body
    assert b"https://" not in script and b"http://" not in script.replace(b"http://www.w3.org/2000/svg", b"")
    token = request(try_service.http_url, "GET", "/demo/apitoken").body.decode()
    counted = request(try_service.http_url, "GET", "/api/face/v1/classcount",
                      headers={"Authorization": f"Bearer {token}"})
    assert counted.status == 200
    assert "demo mode (BWS_DEMO=1)" in try_service.log_path.read_text()  # a warning at start, not in the normal one
    assert "demo mode" not in service.log_path.read_text()


def test_dropping_photos_fills_the_fields(page, tmp_path):
    """A drop as the browser delivers it (a DragEvent carrying files) on each of compare's fields."""
    drop = """
        const [zoneId, name, data] = arguments;
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, { type: "image/jpeg" }));
        const zone = document.getElementById(zoneId).closest(".drop");
        zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        const highlighted = zone.classList.contains("over");
        zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
        return [highlighted, zone.classList.contains("over"), document.getElementById(zoneId).files[0].name];
    """
    for field, name in (("compare-a", "obama_1.jpg"), ("compare-b", "obama_2.jpg")):
        data = base64.b64encode((FACES / name).read_bytes()).decode()
        assert page.execute_script(drop, field, name, data) == [True, False, name]
    step = Step(page, tmp_path)
    dropped = step.run("compare", {}, "1-compare-dropped")
    assert dropped["state"] == "ok" and dropped["decision"].startswith("Same person: score "), dropped
