/* The BWS 2 capture front end: token in, webcam samples up, task run, result shown.
   The application server creates the token (/extension/token) and opens this page with
   /capture#token=<jwt> (the fragment never reaches a server or a Referer header). */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const query = new URLSearchParams(location.search);
  const fragment = new URLSearchParams(location.hash.slice(1));
  const param = (name) => fragment.get(name) || query.get(name);
  // A copy of this page served elsewhere names its gateway in <meta name="bws-api" content="https://...">
  // (that gateway must list the page's origin in BWS_CORS_ORIGINS). Never from the URL: a crafted link
  // must not send someone's face to another server from this origin.
  const meta = document.querySelector('meta[name="bws-api"]');
  const api = ((meta && meta.content) || "").replace(/\/+$/, "");
  const PACE_MS = Number(param("pace")) || 1500;
  const ATTEMPTS_PER_SAMPLE = 5;

  const PROMPTS = {
    "": "Look straight at the camera",
    move: "Now move your head a little",
    left: "Turn your head left",
    right: "Turn your head right",
    up: "Tilt your head up",
    down: "Tilt your head down",
  };
  const ARROWS = {
    left: "M 150 230 l -90 0 m 0 0 l 35 -35 m -35 35 l 35 35",
    right: "M 490 230 l 90 0 m 0 0 l -35 -35 m 35 35 l -35 35",
    up: "M 320 45 l 0 -35 m 0 0 l -30 30 m 30 -30 l 30 30",
    down: "M 320 415 l 0 50 m 0 0 l -30 -30 m 30 30 l 30 -30",
  };
  const TASKS = {
    enroll: ["Enrollment", "Enrolled", "Enrollment failed"],
    verify: ["Verification", "Verified: this is the enrolled person", "Not verified"],
    identify: ["Identification", "Identified", "Nobody identified"],
    livenessdetection: ["Liveness detection", "Live person", "Liveness not confirmed"],
  };
  const ERRORS = {
    NoFaceFound: "No face found: centre your face in the oval.",
    MultipleFacesFound: "More than one face in the picture.",
    InvalidSample: "The picture could not be read.",
    NotEnoughSamples: "Not enough pictures for the liveness check.",
    LiveDetectionFailed: "The liveness check failed.",
    ChallengeResponseFailed: "The head movements did not follow the prompts.",
    NoTemplateAvailable: "Nobody is enrolled under this ID yet.",
    NoSuitableFaceImage: "No usable face in the pictures.",
    ExecutionOfJobTimedOut: "The service took too long; try again.",
  };

  let token = null;
  let claims = null;
  let triesLeft = 0;
  let running = false;

  function show(id, visible) { $(id).hidden = !visible; }

  function fail(message) {
    $("error").textContent = message;
    show("error", true);
  }

  function decodeClaims(jwt) {
    const parts = jwt.split(".");
    if (parts.length !== 3) throw new Error("the token is not a JWT");
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(parts[1].length / 4) * 4, "=");
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const payload = JSON.parse(new TextDecoder().decode(bytes));
    if (!TASKS[payload.task]) throw new Error("the token names no known task");
    return payload;
  }

  // The samples to take, as upload tags: a frontal one, then the challenge's directions (or one
  // free movement) when the token asks for liveness; enrollment takes three frontal samples.
  function plan(c) {
    const challenge = Array.isArray(c.challenge) ? c.challenge.filter((d) => PROMPTS[d]) : [];
    if (c.livedetection) return challenge.length ? ["", ...challenge] : ["", "move"];
    return c.task === "enroll" ? ["", "", ""] : [""];
  }

  function setPrompt(text, tag, state) {
    $("prompt").textContent = text;
    $("arrow").setAttribute("d", ARROWS[tag] || "");
    $("oval").setAttribute("class", state || "");
  }

  function renderSteps(tags, done) {
    const list = $("steps");
    list.replaceChildren(...tags.map((tag, i) => {
      const item = document.createElement("li");
      item.textContent = `${i + 1}. ${tag === "" ? "front" : tag}`;
      item.className = i < done ? "done" : i === done ? "now" : "";
      return item;
    }));
  }

  async function call(path, options) {
    const response = await fetch(api + path, options);
    const text = await response.text();
    let body = {};
    try { body = text ? JSON.parse(text) : {}; } catch (_) { body = { Error: `HTTP ${response.status}` }; }
    return { status: response.status, body, text };
  }

  async function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new Error("this browser cannot open a camera here (it needs HTTPS or localhost)");
    }
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
    const video = $("video");
    video.srcObject = stream;
    await video.play();
  }

  function grab() {
    const video = $("video");
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    return canvas.toDataURL("image/jpeg", 0.92);
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function takeSample(tag, index) {
    for (let attempt = 1; attempt <= ATTEMPTS_PER_SAMPLE; attempt++) {
      setPrompt(PROMPTS[tag], tag, "busy");
      await sleep(PACE_MS);
      const upload = await call(`/extension/upload?index=${index}` + (tag && tag !== "move" ? `&tag=${tag}` : ""), {
        method: "POST", headers: { Authorization: `Bearer ${token}`, "Content-Type": "text/plain" }, body: grab() });
      if (upload.status !== 200 && upload.body.Accepted === undefined) {
        throw new Error(upload.body.Message || upload.body.Error || `upload failed (${upload.status})`);
      }
      if (upload.body.Accepted) {
        setPrompt("Got it", tag, "good");
        return;
      }
      setPrompt(ERRORS[upload.body.Error] || upload.body.Message || upload.body.Error, tag, "busy");
      await sleep(PACE_MS);
    }
    throw new Error("no usable picture: check the light and centre your face in the oval");
  }

  function showResult(status, body) {
    const [, yes, no] = TASKS[claims.task];
    const result = $("result");
    const ok = status === 200 && body.Success === true;
    let text = ok ? yes : no;
    if (!ok && body.Error) text += ` — ${ERRORS[body.Error] || body.Error}`;
    if (claims.task === "identify" && Array.isArray(body.Matches) && body.Matches.length) {
      text += ": " + body.Matches.map((m) => `${m.BCID} (${Number(m.Score).toFixed(3)})`).join(", ");
    }
    result.textContent = text;
    result.className = "result " + (ok ? "ok" : "bad");
    result.dataset.success = String(ok);
    result.dataset.error = body.Error || "";
    show("result", true);
    const target = param("origin");  // the opener may ask for the outcome (never the token or images)
    const peer = window.opener || (window.parent !== window ? window.parent : null);
    if (target && peer) {
      peer.postMessage({ type: "bws-capture-result", task: claims.task, success: ok, error: body.Error || null }, target);
    }
  }

  async function run() {
    if (running) return;
    running = true;
    $("start").disabled = true;
    show("retry", false);
    show("result", false);
    show("error", false);
    const tags = plan(claims);
    try {
      for (let i = 0; i < tags.length; i++) {
        renderSteps(tags, i);
        await takeSample(tags[i], i + 1);
      }
      renderSteps(tags, tags.length);
      setPrompt("Checking\u2026", "", "busy");
      const task = await call(`/extension/${claims.task}`, { headers: { Authorization: `Bearer ${token}` } });
      triesLeft -= 1;
      setPrompt("", "", task.body.Success ? "good" : "");
      showResult(task.status, task.body);
      if (!task.body.Success && triesLeft > 0 && task.status < 401) show("retry", true);
    } catch (error) {
      setPrompt("", "", "");
      fail(error.message);
      if (triesLeft > 0) show("retry", true);
    } finally {
      running = false;
    }
  }

  async function begin(jwt) {
    try {
      claims = decodeClaims(jwt);
    } catch (error) {
      fail(`Invalid token: ${error.message}`);
      return;
    }
    token = jwt;
    triesLeft = Number(claims.maxtries) || 1;
    show("demo", false);
    const live = claims.livedetection ? ", with liveness" : "";
    $("task-line").textContent = `${TASKS[claims.task][0]} for ${claims.bcid}${live}`;
    show("stage", true);
    renderSteps(plan(claims), 0);
    setPrompt("Starting the camera\u2026", "", "");
    try {
      await startCamera();
    } catch (error) {
      fail(`Camera: ${error.message}`);
      return;
    }
    setPrompt("Centre your face in the oval, then press Start", "", "");
    $("start").disabled = false;
  }

  async function demo(event) {
    event.preventDefault();
    const form = new URLSearchParams({
      bcid: $("demo-bcid").value.trim(), task: $("demo-task").value,
      livedetection: String($("demo-live").checked), challenge: String($("demo-challenge").checked) });
    show("error", false);
    const answer = await call(`/demo/token?${form}`, {});
    if (answer.status === 404 && !answer.body.Error) {
      fail("Demo mode is off: start the gateway with BWS_DEMO=1, or open this page with a token.");
    } else if (answer.status !== 200) {
      fail(answer.body.Error || `demo token: ${answer.status}`);
    } else {
      await begin(answer.text.trim());
    }
  }

  $("start").addEventListener("click", run);
  $("retry").addEventListener("click", run);
  $("demo-form").addEventListener("submit", demo);
  window.addEventListener("message", (event) => {
    if (!token && event.origin === param("origin") && event.data && event.data.type === "bws-token") {
      begin(String(event.data.token));
    }
  });

  // A new token in the fragment (the same page opened again) starts afresh.
  window.addEventListener("hashchange", () => { if (location.hash) location.reload(); });

  const given = param("token");
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  if (given) {
    begin(given);
  } else {
    $("task-line").textContent = "Open this page with a token, or get one in demo mode.";
    show("demo", true);
  }
}());
