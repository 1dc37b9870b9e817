/* The photo page (/try, BWS_DEMO=1 only): enroll, verify, search and compare with photos chosen or dropped here,
   through the REST API with a short-lived token from /demo/apitoken. Faces are boxed from the eye positions the
   service reports; scores and decisions are the service's. */
(function () {
  "use strict";

  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";

  async function token() {
    const answer = await fetch("/demo/apitoken", { cache: "no-store" });
    if (!answer.ok) throw new Error("no demo token: " + (await answer.text()));
    return answer.text();
  }

  async function api(method, path, body) {
    const answer = await fetch(path, {
      method,
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + (await token()) },
      body: JSON.stringify(body),
    });
    const text = await answer.text();
    let data = {};
    try { data = JSON.parse(text); } catch (_) { data = { message: text }; }
    if (!answer.ok) throw new Error(data.message || data.Message || "HTTP " + answer.status);
    return data;
  }

  function base64(file) {
    return new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(",")[1] || "");
      reader.onerror = () => reject(new Error(file.name + ": cannot be read"));
      reader.readAsDataURL(file);
    });
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A face's box from its eyes: about 2.2 eye distances wide, the eyes 40% down from its top.
  function faceBox(face) {
    const l = face.leftEye || { x: 0, y: 0 };
    const r = face.rightEye || { x: 0, y: 0 };
    const d = Math.hypot((l.x || 0) - (r.x || 0), (l.y || 0) - (r.y || 0));
    const cx = ((l.x || 0) + (r.x || 0)) / 2;
    const cy = ((l.y || 0) + (r.y || 0)) / 2;
    return { x: cx - 1.1 * d, y: cy - 1.0 * d, width: 2.2 * d, height: 2.5 * d, eyes: [l, r] };
  }

  function svgNode(tag, attributes) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    return node;
  }

  // One photo with its faces boxed; properties is the service's ImageProperties for it (or none).
  function figure(file, properties) {
    const faces = (properties && properties.faces) || [];
    const shown = element("figure");
    shown.dataset.faces = String(faces.length);
    const frame = element("div", "frame");
    const img = element("img");
    img.alt = file.name;
    const overlay = svgNode("svg", { "aria-hidden": "true", preserveAspectRatio: "none" });
    img.onload = () => {
      overlay.setAttribute("viewBox", `0 0 ${img.naturalWidth} ${img.naturalHeight}`);
      for (const face of faces) {
        const box = faceBox(face);
        overlay.append(svgNode("rect", { class: "box", x: box.x, y: box.y, width: box.width, height: box.height,
                                         rx: box.width / 12 }));
        for (const eye of box.eyes) {
          overlay.append(svgNode("circle", { class: "eye", cx: eye.x || 0, cy: eye.y || 0,
                                             r: Math.max(2, box.width / 40) }));
        }
      }
      shown.dataset.drawn = "true";
    };
    img.onerror = () => { shown.dataset.drawn = "not an image"; };
    img.src = URL.createObjectURL(file);
    frame.append(img, overlay);
    const quality = properties && properties.qualityScore !== undefined
      ? `, quality ${Number(properties.qualityScore).toFixed(2)}` : "";
    shown.append(frame, element("figcaption", "", `${file.name}: ${faces.length} face(s)${quality}`));
    return shown;
  }

  function outcome(name, state, decision, details) {
    const box = $(name + "-outcome");
    box.replaceChildren();
    box.className = "outcome " + state;
    box.dataset.state = state;
    box.append(element("div", "decision", decision));
    const lines = (details || []).filter(Boolean);
    if (lines.length) {
      const list = element("ul");
      for (const line of lines) list.append(element("li", "", line));
      box.append(list);
    }
  }

  const jobErrors = (data) => (data.errors || []).map((e) => `${e.errorCode}: ${e.message}`);
  const score = (value) => Number(value || 0).toFixed(3);

  function files(id) { return Array.from($(id).files || []); }

  const ACTIONS = {
    async enroll() {
      const chosen = files("enroll-files");
      const classId = $("enroll-class").value;
      const images = await Promise.all(chosen.map(async (f) => ({ image: await base64(f) })));
      const data = await api("POST", `/api/face/v1/enroll/${encodeURIComponent(classId)}`, images);
      const ok = data.performedAction !== "ENROLLMENT_FAILED" && Number(data.enrolledImages || 0) > 0;
      const vectors = (data.templateStatus && data.templateStatus.featureVectors) || 0;
      outcome("enroll", ok ? "ok" : "bad",
              ok ? `Enrolled in class ${classId}: ${data.enrolledImages} photo(s); the template has ${vectors} ` +
                   "feature vector(s)" : `Not enrolled (${data.performedAction || "ENROLLMENT_FAILED"})`,
              [...jobErrors(data), ...qualityNotes(data.imageProperties || [], chosen)]);
      return chosen.map((f, i) => figure(f, (data.imageProperties || [])[i]));
    },
    async verify() {
      const [file] = files("verify-files");
      const classId = $("verify-class").value;
      const data = await api("POST", `/api/face/v1/verify/${encodeURIComponent(classId)}`,
                             { image: await base64(file) });
      outcome("verify", data.verified ? "ok" : "bad",
              `${data.verified ? "Verified" : "Not verified"}: score ${score(data.score)} for class ${classId}`,
              jobErrors(data));
      return [figure(file, data.imageProperties)];
    },
    async search() {
      const [file] = files("search-files");
      const data = await api("POST", "/api/face/v1/search", { images: [{ image: await base64(file) }] });
      const matches = ((data.result || [])[0] || {}).matches || [];
      outcome("search", matches.length ? "ok" : "bad",
              matches.length ? `Found: class ${matches[0].classId} (score ${score(matches[0].score)})` : "No match",
              [...matches.map((m) => `class ${m.classId}: score ${score(m.score)}`), ...jobErrors(data)]);
      return [figure(file, (data.imageProperties || [])[0])];
    },
    async compare() {
      const [a] = files("compare-a");
      const [b] = files("compare-b");
      // The service's messages name PhotoVerify's fields (live_images[0], photo): here they are the two files.
      const names = (text) => text.replace("live_images[0]", a.name).replace("photo:", b.name + ":");
      const body = { liveImages: [{ image: await base64(a) }], photo: await base64(b), disableLivenessDetection: true };
      const data = await api("POST", "/api/v1/photoverify", body).catch((error) => {
        throw new Error(names(error.message));
      });
      const level = data.verificationLevel || "NOT_RECOGNIZED";
      const same = level !== "NOT_RECOGNIZED";
      outcome("compare", same ? "ok" : "bad",
              `${same ? "Same person" : "Not the same person"}: score ${score(data.verificationScore)} (${level})`,
              jobErrors(data).map(names));
      return [figure(a, (data.imageProperties || [])[0]), figure(b, data.photoProperties)];
    },
  };

  function qualityNotes(properties, chosen) {
    return properties.flatMap((p, i) => (p.qualityAssessments || []).filter((q) => q.message)
      .map((q) => `${(chosen[i] || {}).name}: ${q.check}: ${q.message}`));
  }

  for (const name of Object.keys(ACTIONS)) {
    $(name + "-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = $(name + "-go");
      button.disabled = true;
      $(name + "-outcome").dataset.state = "busy";
      $(name + "-outcome").textContent = "Working\u2026";
      try {
        const shown = await ACTIONS[name]();
        $(name + "-photos").replaceChildren(...shown);
      } catch (error) {
        outcome(name, "error", "Error", [error.message]);
        $(name + "-photos").replaceChildren();
      } finally {
        button.disabled = false;
      }
    });
  }

  // Dropping files on a field fills it as choosing them would.
  for (const zone of document.querySelectorAll(".drop")) {
    const input = zone.querySelector("input[type=file]");
    zone.addEventListener("dragover", (event) => { event.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      zone.classList.remove("over");
      input.files = event.dataTransfer.files;
      input.dispatchEvent(new Event("change"));
    });
  }

  token().then((jwt) => {  // name the client whose partition the page enrolls into
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    $("client").textContent = "client " + JSON.parse(atob(part.padEnd(Math.ceil(part.length / 4) * 4, "="))).sub;
  }).catch((error) => { $("client").textContent = error.message; });
}());
