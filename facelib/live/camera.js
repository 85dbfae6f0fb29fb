// The browser half of facelib's live door (anywidget ESM module).
// Camera (getUserMedia) -> canvas -> JPEG -> kernel, one frame in flight; answers drawn on the video.

const W = 640, H = 480;

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k === "text") e.textContent = v; else e.setAttribute(k, v);
  }
  for (const k of kids) e.append(k);
  return e;
}

const DOOR_SVG = {
  open: `<svg viewBox="0 0 100 140" width="120" height="168" role="img" aria-label="door open">
    <rect x="12" y="12" width="76" height="124" fill="#5a4632"/>
    <rect x="18" y="18" width="64" height="118" fill="#ffec96"/>
    <polygon points="18,18 40,26 40,130 18,136" fill="#289640"/>
    <text x="50" y="10" text-anchor="middle" font-size="11" font-weight="bold" fill="#1e8c32">OPEN</text></svg>`,
  shut: `<svg viewBox="0 0 100 140" width="120" height="168" role="img" aria-label="door shut">
    <rect x="12" y="12" width="76" height="124" fill="#5a4632"/>
    <rect x="18" y="18" width="64" height="118" fill="#aa2828"/>
    <rect x="25" y="25" width="50" height="48" fill="none" stroke="#781919" stroke-width="3"/>
    <rect x="25" y="82" width="50" height="46" fill="none" stroke="#781919" stroke-width="3"/>
    <circle cx="72" cy="78" r="4" fill="#e6c83c"/>
    <text x="50" y="10" text-anchor="middle" font-size="11" font-weight="bold" fill="#aa1e1e">SHUT</text></svg>`,
};

function render({ model, el: root }) {
  root.classList.add("facelib-live");
  root.dataset.door = "shut";
  root.dataset.label = "no face";
  root.dataset.answered = "0";
  root.dataset.camera = "starting";
  root.dataset.painting = "off";
  root.dataset.painted = "0";

  // ---------------------------------------------------------------- layout
  const startBtn = el("button", { class: "fl-start", text: "Stop" });
  const tau = el("input", { type: "range", min: "0.3", max: "1.3", step: "0.01", class: "fl-tau" });
  const tauOut = el("span", { class: "fl-tau-value" });
  const nameIn = el("input", { type: "text", placeholder: "name", class: "fl-name", size: "12" });
  const enrolBtn = el("button", { class: "fl-enrol", text: "Enrol me" });
  const people = el("select", { class: "fl-people" });
  const removeBtn = el("button", { class: "fl-remove", text: "Remove" });
  const snapBtn = el("button", { class: "fl-snapshot", text: "Snapshot → painting" });
  const paintBtn = el("button", { class: "fl-painting", text: "Paint every frame" });
  const bar = el("div", { class: "fl-bar" }, startBtn, el("label", { text: "τ " }, tau), tauOut,
    nameIn, enrolBtn, people, removeBtn, snapBtn, paintBtn);

  const canvas = el("canvas", { width: String(W), height: String(H), class: "fl-view" });
  const door = el("div", { class: "fl-door" });
  const label = el("div", { class: "fl-label", text: "starting the camera…" });
  const side = el("div", { class: "fl-side" }, door, label);
  const main = el("div", { class: "fl-main" }, canvas, side);

  const message = el("div", { class: "fl-message" });
  const upload = el("input", { type: "file", accept: "image/*", class: "fl-upload" });
  const clipBtn = el("button", { class: "fl-clip", text: "Play the recorded clip" });
  const camBtn = el("button", { class: "fl-camera", text: "Try the camera again" });
  const fallback = el("div", { class: "fl-fallback" }, message,
    el("label", { text: "Upload a photo: " }, upload), clipBtn, camBtn);
  fallback.hidden = true;

  const stats = el("div", { class: "fl-stats" });
  const status = el("div", { class: "fl-status" });
  const painted = el("img", { class: "fl-painted", alt: "snapshot painted by neural style transfer" });
  painted.hidden = true;
  root.append(bar, fallback, main, stats, status, painted);

  const ctx = canvas.getContext("2d");
  const grab = document.createElement("canvas");
  grab.width = W; grab.height = H;
  const gctx = grab.getContext("2d");

  // ---------------------------------------------------------------- sources
  let video = null, stream = null, clip = null, still = null;
  let paintedFrame = null, paintedCount = 0;  // the latest frame painted by the kernel (painting mode)
  // frames sent and not answered yet (seq -> time sent); at most MAX_IN_FLIGHT, the kernel keeps only the newest
  const MAX_IN_FLIGHT = 2;
  const inFlight = new Map();
  let seq = 0, timer = null;

  function showFallback(text) {
    root.dataset.camera = "error";
    message.textContent = text;
    fallback.hidden = false;
    label.textContent = "no camera";
  }

  async function startCamera() {
    stopCamera();
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      showFallback("This page cannot use a camera (browsers allow it only on https:// or http://localhost). " +
        "Upload a photo or play the recorded clip instead.");
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: W, height: H }, audio: false });
    } catch (err) {
      const why = err && err.name === "NotAllowedError" ? "Camera permission was denied." :
        err && (err.name === "NotFoundError" || err.name === "OverconstrainedError") ? "No camera was found." :
        `The camera could not start (${err && err.name}: ${err && err.message}).`;
      showFallback(`${why} Upload a photo or play the recorded clip instead.`);
      return;
    }
    video = document.createElement("video");
    video.muted = true; video.playsInline = true; video.srcObject = stream;
    await video.play().catch(() => {});
    clip = null; still = null;
    root.dataset.camera = "on";
    fallback.hidden = true;
  }

  function stopCamera() {
    if (stream) stream.getTracks().forEach(t => t.stop());
    stream = null; video = null;
  }

  function currentSource() {
    if (video && video.readyState >= 2) return video;
    if (clip && clip.frames.length) {
      const i = Math.floor((performance.now() - clip.t0) / (1000 / clip.fps)) % clip.frames.length;
      return clip.frames[i];
    }
    return null;
  }

  // ---------------------------------------------------------------- frames out
  function sendFrame() {
    if (!model.get("running")) return;
    const src = currentSource();
    if (!src) return;
    const now = performance.now();
    for (const [k, t] of inFlight) if (now - t > 1500) inFlight.delete(k);  // lost or dropped as stale
    if (inFlight.size >= MAX_IN_FLIGHT) return;
    gctx.drawImage(src, 0, 0, W, H);
    const mySeq = ++seq;
    inFlight.set(mySeq, now);
    grab.toBlob(blob => {
      if (!blob) { inFlight.delete(mySeq); return; }
      blob.arrayBuffer().then(buf => model.send({ type: "frame", seq: mySeq }, undefined, [buf]));
    }, "image/jpeg", 0.8);
  }

  function tick() {
    sendFrame();
    draw();
  }

  function restartTimer() {
    if (timer) clearInterval(timer);
    timer = setInterval(tick, 1000 / Math.max(1, model.get("capture_fps")));
  }

  // ---------------------------------------------------------------- answers in
  // where a picture of size sw x sh goes on the canvas, aspect ratio kept (an upload may be square)
  function fit(sw, sh) {
    const k = Math.min(W / sw, H / sh);
    return [(W - sw * k) / 2, (H - sh * k) / 2, k];
  }

  function draw() {
    const src = still || currentSource();
    ctx.fillStyle = "#333"; ctx.fillRect(0, 0, W, H);
    if (model.get("painting") && paintedFrame && !still) {
      ctx.drawImage(paintedFrame, 0, 0, W, H);  // the door answers this painted frame
    } else if (src === still && still) {
      const [ox, oy, k] = fit(still.width, still.height);
      ctx.drawImage(still, ox, oy, still.width * k, still.height * k);
    } else if (src) {
      ctx.drawImage(src, 0, 0, W, H);
    }
    const s = model.get("state") || {};
    if (s.box && s.width) {
      let ox = 0, oy = 0, kx = W / s.width, ky = H / s.height;
      if (still) { const f = fit(s.width, s.height); ox = f[0]; oy = f[1]; kx = ky = f[2]; }
      const [bx, by, w, h] = s.box;
      const x = bx + ox / kx, y = by + oy / ky;
      const colour = s.door_open ? "#28c846" : "#e63232";
      ctx.lineWidth = 4; ctx.strokeStyle = colour;
      ctx.strokeRect(x * kx, y * ky, w * kx, h * ky);
      const text = s.label + (s.distance === null || s.distance === undefined ? "" : `  d=${s.distance.toFixed(2)}`);
      ctx.font = "bold 20px sans-serif";
      const tw = ctx.measureText(text).width;
      ctx.fillStyle = colour;
      ctx.fillRect(x * kx, Math.max(y * ky - 28, 0), tw + 10, 26);
      ctx.fillStyle = "#fff";
      ctx.fillText(text, x * kx + 5, Math.max(y * ky - 28, 0) + 20);
    }
  }

  function onState() {
    const s = model.get("state") || {};
    if (s.seq !== undefined) for (const k of [...inFlight.keys()]) if (k <= s.seq) inFlight.delete(k);
    const open = !!s.door_open;
    root.dataset.door = open ? "open" : "shut";
    root.dataset.label = s.label || "no face";
    root.dataset.distance = s.distance === null || s.distance === undefined ? "" : String(s.distance);
    root.dataset.answered = String(s.answered || 0);
    door.innerHTML = open ? DOOR_SVG.open : DOOR_SVG.shut;
    door.className = "fl-door " + (open ? "fl-open" : "fl-shut");
    if (s.error) {
      label.textContent = "⚠ " + s.error;
    } else {
      const d = s.distance === null || s.distance === undefined ? "" : ` · d = ${s.distance.toFixed(2)} (τ = ${Number(s.tau).toFixed(2)})`;
      label.textContent = (s.label || "no face") + d;
    }
    stats.textContent = `${(s.fps || 0).toFixed(1)} frames/s answered · latency ${(s.latency_ms || 0).toFixed(0)} ms · ` +
      `${s.answered || 0} answered, ${s.dropped || 0} dropped` + (s.message ? ` · ${s.message}` : "");
    if (still) draw();
  }

  function onPeople() {
    people.innerHTML = "";
    for (const p of model.get("people") || []) people.append(el("option", { value: p, text: p }));
  }

  function onTau() {
    tau.value = String(model.get("tau"));
    tauOut.textContent = Number(model.get("tau")).toFixed(2);
  }

  function onRunning() {
    startBtn.textContent = model.get("running") ? "Stop" : "Start";
  }

  function onPainting() {
    const on = !!model.get("painting");
    paintBtn.textContent = on ? "Stop painting" : "Paint every frame";
    root.dataset.painting = on ? "on" : "off";
    if (!on) paintedFrame = null;
  }

  function onPaintedFrame() {
    const bytes = model.get("painted_frame");
    if (!bytes || !bytes.byteLength) return;
    createImageBitmap(new Blob([bytes], { type: "image/jpeg" })).then(img => {
      paintedFrame = img;
      root.dataset.painted = String(++paintedCount);
    }).catch(() => {});
  }

  function onStylized() {
    const bytes = model.get("stylized");
    if (!bytes || !bytes.byteLength) { painted.hidden = true; return; }
    const blob = new Blob([bytes], { type: "image/png" });
    if (painted.src) URL.revokeObjectURL(painted.src);
    painted.src = URL.createObjectURL(blob);
    painted.hidden = false;
  }

  model.on("change:state", onState);
  model.on("change:people", onPeople);
  model.on("change:tau", onTau);
  model.on("change:running", onRunning);
  model.on("change:status", () => { status.textContent = model.get("status"); });
  model.on("change:stylized", onStylized);
  model.on("change:painting", onPainting);
  model.on("change:painted_frame", onPaintedFrame);
  model.on("change:capture_fps", restartTimer);
  model.on("msg:custom", async (msg, buffers) => {
    if (!msg || msg.type !== "clip") return;
    const frames = await Promise.all(buffers.map(b => createImageBitmap(new Blob([b], { type: "image/jpeg" }))));
    stopCamera();
    still = null;
    clip = { frames, fps: msg.fps || 10, t0: performance.now() };
    root.dataset.camera = "clip";
  });

  // ---------------------------------------------------------------- controls
  startBtn.addEventListener("click", () => { model.set("running", !model.get("running")); model.save_changes(); });
  tau.addEventListener("input", () => { tauOut.textContent = Number(tau.value).toFixed(2); });
  tau.addEventListener("change", () => { model.set("tau", Number(tau.value)); model.save_changes(); });
  enrolBtn.addEventListener("click", () => model.send({ type: "enrol", name: nameIn.value }));
  removeBtn.addEventListener("click", () => { if (people.value) model.send({ type: "remove", name: people.value }); });
  snapBtn.addEventListener("click", () => model.send({ type: "snapshot" }));
  paintBtn.addEventListener("click", () => { model.set("painting", !model.get("painting")); model.save_changes(); });
  clipBtn.addEventListener("click", () => model.send({ type: "clip" }));
  camBtn.addEventListener("click", () => startCamera());
  upload.addEventListener("change", async () => {
    const file = upload.files && upload.files[0];
    if (!file) return;
    const img = await createImageBitmap(file).catch(() => null);
    if (!img) { status.textContent = `${file.name} is not an image the browser can read`; return; }
    stopCamera(); clip = null; still = img;
    draw();
    const buf = await file.arrayBuffer();
    model.send({ type: "frame", seq: ++seq, still: true }, undefined, [buf]);
  });

  onPeople(); onTau(); onRunning(); onState(); onStylized(); onPainting();
  status.textContent = model.get("status");
  startCamera();
  restartTimer();
  return () => { if (timer) clearInterval(timer); stopCamera(); };
}

export default { render };
