"""The capture page in a real headless Chromium (Debian's chromium and
chromium-driver) whose fake camera plays a video made of a real fixture photo:
enroll through the demo route, then verify with a token the application server
created over /extension/token, against the real service. Plus CORS for
/extension/ and the demo route being absent unless BWS_DEMO=1."""
from __future__ import annotations

import base64
import functools
import json
import shutil
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import ImageChops
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select, WebDriverWait

from gateway.transport.web.pages import STATIC
from templates_store.embedded import free_port
from tests.conftest import Service, launch_service, stop_service
from tests.e2e.browser import browser
from tests.e2e.helpers import Caller, new_class_id
from tests.e2e.http import request
from tests.e2e.media import letterbox, photo

APP_ORIGIN = "https://app.example"


def write_y4m(name: str, out: Path, frames: int = 30, size=(640, 480)) -> Path:
    """A YUV 4:2:0 video of a fixture photo letterboxed into the frame, drifting
    a few pixels from frame to frame (Chromium loops it as the camera)."""
    still = letterbox(photo(name), size)
    half = (size[0] // 2, size[1] // 2)
    with out.open("wb") as video:
        video.write(f"YUV4MPEG2 W{size[0]} H{size[1]} F15:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(frames):
            y, cb, cr = ImageChops.offset(still, (i % 6) - 3, 0).convert("YCbCr").split()
            video.write(b"FRAME\n" + y.tobytes() + cb.resize(half).tobytes() + cr.resize(half).tobytes())
    return out


PAGE_PORT = free_port()  # a copy of the page on the application's own site, another origin than the gateway's


@pytest.fixture(scope="module")
def demo_service(tmp_path_factory, redis_server):
    origins = f"{APP_ORIGIN}, http://localhost:{PAGE_PORT}"
    started = launch_service(tmp_path_factory.mktemp("capture"), redis_server.url, BWS_DEMO="1",
                             BWS_CORS_ORIGINS=origins)
    yield started
    stop_service(started.process)


def wait_for(driver: webdriver.Chrome, condition, screenshot: Path, seconds: float = 120):
    try:
        return WebDriverWait(driver, seconds).until(condition)
    except TimeoutException:
        driver.save_screenshot(str(screenshot))
        console = [entry["message"] for entry in driver.get_log("browser")]
        raise AssertionError(f"page stuck (screenshot {screenshot}): {driver.find_element(By.TAG_NAME, 'body').text!r}"
                             f"\nconsole: {console}") from None


def run_capture(driver: webdriver.Chrome, screenshot: Path) -> dict:
    wait_for(driver, ready.element_to_be_clickable((By.ID, "start")), screenshot)
    assert driver.execute_script("return document.getElementById('video').videoWidth") == 640
    driver.find_element(By.ID, "start").click()
    wait_for(driver, lambda d: any(d.find_element(By.ID, i).is_displayed() for i in ("result", "error")), screenshot)
    driver.save_screenshot(str(screenshot))
    print(f"capture page screenshot: {screenshot}")
    result = driver.find_element(By.ID, "result")
    error = driver.find_element(By.ID, "error")
    assert not error.is_displayed(), error.text
    return {"success": result.get_attribute("data-success"), "error": result.get_attribute("data-error"),
            "text": result.text}


def app_server_token(service: Service, client_id: str, bcid: str, task: str) -> str:
    secret = base64.b64encode(service.clients[client_id].key).decode()
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    reply = request(service.http_url, "GET", f"/extension/token?bcid={bcid}&task={task}&livedetection=false",
                    headers={"Authorization": f"Basic {basic}"})
    assert reply.status == 200, reply.body
    return reply.body.decode()


def test_enroll_in_demo_mode_then_verify_with_an_application_token(demo_service, tmp_path):
    class_id = new_class_id()
    bcid = f"acme/1/{class_id}"
    obama = write_y4m("obama_1.jpg", tmp_path / "obama.y4m")
    driver = browser(obama, tmp_path / "profile-1")
    try:
        driver.get(f"{demo_service.http_url}/capture?pace=300")
        WebDriverWait(driver, 30).until(ready.visibility_of_element_located((By.ID, "demo-form")))
        field = driver.find_element(By.ID, "demo-bcid")
        field.clear()
        field.send_keys(bcid)
        Select(driver.find_element(By.ID, "demo-task")).select_by_visible_text("enroll")
        driver.find_element(By.ID, "demo-live").click()  # liveness off: a still photo cannot move its head
        driver.find_element(By.ID, "demo-go").click()
        enrolled = run_capture(driver, tmp_path / "enroll.png")
        assert enrolled["success"] == "true", enrolled
        assert f"Enrollment for {bcid}" in driver.find_element(By.ID, "task-line").text

        # The template the page made is the real face: another photo of him verifies over gRPC.
        with demo_service.channel() as channel:
            assert Caller(channel, demo_service.clients["tenant-a"]).verify(class_id, "obama_3.jpg").verified

        token = app_server_token(demo_service, "tenant-a", bcid, "verify")
        driver.get(f"{demo_service.http_url}/capture?pace=300#token={token}")
        verified = run_capture(driver, tmp_path / "verify.png")
        assert verified == {"success": "true", "error": "", "text": "Verified: this is the enrolled person"}
        assert token not in driver.current_url  # the page drops the token from the address bar
    finally:
        driver.quit()

    biden = write_y4m("biden_2.jpg", tmp_path / "biden.y4m")
    driver = browser(biden, tmp_path / "profile-2")
    try:
        token = app_server_token(demo_service, "tenant-a", bcid, "verify")
        driver.get(f"{demo_service.http_url}/capture?pace=300#token={token}")
        impostor = run_capture(driver, tmp_path / "impostor.png")
        assert impostor["success"] == "false" and impostor["text"].startswith("Not verified"), impostor
    finally:
        driver.quit()


def test_demo_route_is_absent_unless_enabled(service, demo_service):
    assert request(service.http_url, "GET", "/demo/token?bcid=acme/1/5&task=enroll").status == 404
    reply = request(demo_service.http_url, "GET", "/demo/token?bcid=acme/1/5&task=verify&challenge=true")
    assert reply.status == 200
    payload = reply.body.decode().split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["iss"] == "tenant-a" and claims["bcid"] == "acme/1/5" and claims["task"] == "verify"
    assert len(claims["challenge"]) == 3
    assert request(demo_service.http_url, "GET", "/demo/token?bcid=nobody/9/5&task=enroll").status == 404
    assert request(demo_service.http_url, "GET", "/demo/token?bcid=acme/1/5&task=dance").status == 400


def test_capture_page_and_assets_are_served(service):
    page = request(service.http_url, "GET", "/capture")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset, kind in (("capture.js", "javascript"), ("capture.css", "text/css")):
        reply = request(service.http_url, "GET", f"/web/static/{asset}")
        assert reply.status == 200 and kind in reply.headers["content-type"]
    assert b"http://" not in page.body and b"https://" not in page.body  # nothing from a CDN
    assert request(service.http_url, "GET", "/web/static/../../config.py").status in (403, 404)


def preflight(url: str, origin: str):
    return request(url, "OPTIONS", "/extension/upload", headers={
        "Origin": origin, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})


def test_cors_allows_only_configured_origins(service, demo_service):
    allowed = preflight(demo_service.http_url, APP_ORIGIN)
    assert allowed.status == 204
    assert allowed.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "Authorization" in allowed.headers["access-control-allow-headers"]
    other = preflight(demo_service.http_url, "https://evil.example")
    assert other.status == 403 and "access-control-allow-origin" not in other.headers
    # none by default
    default = preflight(service.http_url, APP_ORIGIN)
    assert default.status == 403 and "access-control-allow-origin" not in default.headers

    call = request(demo_service.http_url, "GET", "/extension/verify", headers={"Origin": APP_ORIGIN})
    assert call.status == 401 and call.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "jobid" in call.headers["access-control-expose-headers"]
    plain = request(service.http_url, "GET", "/extension/verify", headers={"Origin": APP_ORIGIN})
    assert plain.status == 401 and "access-control-allow-origin" not in plain.headers
    api = request(demo_service.http_url, "GET", "/livez", headers={"Origin": APP_ORIGIN})
    assert "access-control-allow-origin" not in api.headers  # only /extension/


@contextmanager
def app_site(gateway_url: str, root: Path, port: int):
    """The application's own web server (plain http.server) with a copy of the
    page that names the gateway in its bws-api meta tag."""
    static = root / "web" / "static"
    shutil.copytree(STATIC, static)
    page = (STATIC / "capture.html").read_text()
    (root / "capture.html").write_text(page.replace("<head>", f'<head>\n<meta name="bws-api" content="{gateway_url}">'))
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{port}/capture.html"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_on_another_origin_works_through_cors_only_when_listed(demo_service, tmp_path):
    class_id = new_class_id()
    with demo_service.channel() as channel:
        Caller(channel, demo_service.clients["tenant-a"]).enroll(class_id, "obama_1.jpg")
    video = write_y4m("obama_3.jpg", tmp_path / "obama3.y4m")
    driver = browser(video, tmp_path / "profile")
    try:
        with app_site(demo_service.http_url, tmp_path / "listed", PAGE_PORT) as page:
            token = app_server_token(demo_service, "tenant-a", f"acme/1/{class_id}", "verify")
            driver.get(f"{page}?pace=300#token={token}")
            verified = run_capture(driver, tmp_path / "cross-origin.png")
            assert verified["success"] == "true", verified
        with app_site(demo_service.http_url, tmp_path / "unlisted", free_port()) as page:
            token = app_server_token(demo_service, "tenant-a", f"acme/1/{class_id}", "verify")
            driver.get(f"{page}?pace=300#token={token}")
            wait_for(driver, ready.element_to_be_clickable((By.ID, "start")), tmp_path / "unlisted.png")
            driver.find_element(By.ID, "start").click()
            error = wait_for(driver, ready.visibility_of_element_located((By.ID, "error")), tmp_path / "unlisted.png")
            assert "fetch" in error.text.lower()  # the browser blocked the call: no CORS grant for that origin
    finally:
        driver.quit()


def test_a_challenge_is_prompted_from_the_token_and_a_still_photo_is_not_live(demo_service, tmp_path):
    """The page reads the directions from the token, prompts and tags one sample
    per direction; the service then judges the motion: a photo does not turn."""
    secret = base64.b64encode(demo_service.clients["tenant-a"].key).decode()
    basic = base64.b64encode(f"tenant-a:{secret}".encode()).decode()
    reply = request(demo_service.http_url, "GET", "/extension/token?bcid=acme/1/9&task=livenessdetection"
                    "&livedetection=true&challenge=true", headers={"Authorization": f"Basic {basic}"})
    token = reply.body.decode()
    payload = token.split(".")[1]
    challenge = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["challenge"]
    driver = browser(write_y4m("obama_1.jpg", tmp_path / "still.y4m"), tmp_path / "profile")
    try:
        # each prompt shows for 1.5 s, long enough for the 0.5 s polling below to see it
        driver.get(f"{demo_service.http_url}/capture?pace=1500#token={token}")
        wait_for(driver, ready.element_to_be_clickable((By.ID, "start")), tmp_path / "challenge.png")
        steps = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#steps li")]
        assert steps == [f"{i + 1}. {tag}" for i, tag in enumerate(["front", *challenge])]
        driver.find_element(By.ID, "start").click()
        prompts: set[str] = set()

        def watch(d) -> bool:
            prompt = d.find_element(By.ID, "prompt").text
            if prompt.startswith(("Turn", "Tilt")) and not any(p.startswith(("Turn", "Tilt")) for p in prompts):
                d.save_screenshot(str(tmp_path / "prompt.png"))
                print(f"capture page screenshot: {tmp_path / 'prompt.png'}")
            prompts.add(prompt)
            return d.find_element(By.ID, "result").is_displayed()
        wait_for(driver, watch, tmp_path / "challenge.png")
        wanted = {f"Turn your head {d}" if d in ("left", "right") else f"Tilt your head {d}" for d in challenge}
        assert wanted <= prompts
        result = driver.find_element(By.ID, "result")
        driver.save_screenshot(str(tmp_path / "challenge.png"))
        print(f"capture page screenshot: {tmp_path / 'challenge.png'}")
        assert result.get_attribute("data-success") == "false"
        assert result.get_attribute("data-error") in ("LiveDetectionFailed", "ChallengeResponseFailed")
    finally:
        driver.quit()
