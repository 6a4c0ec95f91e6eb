// imiebench element editor: element centroids over an image; click selects, drag moves,
// the −/+ buttons (or the - and + keys) resize, the delete button (or Delete / Backspace) deletes;
// arrow keys nudge by 1 px (Shift: 10 px). Anywidget ES module, no imports.
// Model state: image_url, width, height, display_width, centroids ([[y, x], ...] image px, index units:
// pixel (i, j) is centred at (i + 0.5, j + 0.5) in the SVG's viewBox, so an element is drawn at (x + 0.5, y + 0.5)),
// sizes (radius, image px), alive (bools), selected (id or -1).
// Each edit is sent to Python as a custom message {op: 'move'|'resize'|'delete', id, dx, dy, scale}
// (dx, dy in image pixels); Python validates it, records it and sends the new state back.

const SVG = "http://www.w3.org/2000/svg";
const GROW = 1.25, SHRINK = 0.8;

function h(tag, cls, attrs = {}) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}
function s(tag, attrs = {}) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function render({ model, el }) {
  const root = h("div", "imie-widget imie-elements", { tabindex: "0", "data-lm-suppress-shortcuts": "true", "data-p-suppress-shortcuts": "true" });
  const bar = h("div", "imie-toolbar");
  const label = h("span", "imie-selected-label");
  const shrinkBtn = h("button", "imie-btn imie-shrink", { type: "button", title: "shrink (-)" });
  shrinkBtn.textContent = "−";
  const growBtn = h("button", "imie-btn imie-grow", { type: "button", title: "grow (+)" });
  growBtn.textContent = "+";
  const delBtn = h("button", "imie-btn imie-delete", { type: "button", title: "delete (Delete)" });
  delBtn.textContent = "delete";
  const info = h("span", "imie-info");
  bar.append(label, shrinkBtn, growBtn, delBtn, info);
  const stage = h("div", "imie-stage");
  const img = h("img", "imie-image", { draggable: "false", alt: "image" });
  const svg = s("svg", { preserveAspectRatio: "none" });
  stage.append(img, svg);
  root.append(bar, stage);
  el.appendChild(root);

  let W = 0, H = 0, drag = null;
  const groups = new Map();

  function layout() {
    W = model.get("width"); H = model.get("height");
    const dw = model.get("display_width") || W;
    stage.style.width = dw + "px";
    stage.style.height = Math.round((dw * H) / W) + "px";
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    img.src = model.get("image_url");
  }
  function draw() {
    const cs = model.get("centroids"), sz = model.get("sizes"), alive = model.get("alive"), sel = model.get("selected");
    const scale = W / (stage.getBoundingClientRect().width || model.get("display_width") || W);
    svg.replaceChildren();
    groups.clear();
    let n = 0;
    cs.forEach(([y, x], id) => {
      if (!alive[id]) return;
      n++;
      const g = s("g", { class: "imie-el" + (id === sel ? " imie-selected" : ""), "data-id": String(id), transform: `translate(${x + 0.5} ${y + 0.5})` });
      g.append(s("circle", { class: "imie-disc", cx: 0, cy: 0, r: sz[id] }));
      g.append(s("circle", { class: "imie-dot", cx: 0, cy: 0, r: 2.5 * scale }));
      const t = s("text", { x: 3 * scale, y: -3 * scale, "font-size": 10 * scale });
      t.textContent = String(id);
      g.append(t);
      svg.append(g);
      groups.set(id, g);
    });
    const ok = sel >= 0 && sel < cs.length && alive[sel];
    label.textContent = ok ? `element ${sel}` : "no selection";
    for (const b of [shrinkBtn, growBtn, delBtn]) b.disabled = !ok;
    root.dataset.alive = String(n);
  }
  function select(id) { model.set("selected", id); model.save_changes(); }
  function send(edit) {
    info.textContent = "";
    info.classList.remove("imie-error");
    model.send(Object.assign({ dx: 0, dy: 0, scale: 1 }, edit));
  }
  function selectedId() {
    const sel = model.get("selected"), alive = model.get("alive");
    return sel >= 0 && sel < alive.length && alive[sel] ? sel : -1;
  }
  function toImage(e) {
    const rect = svg.getBoundingClientRect();
    return { x: ((e.clientX - rect.left) * W) / rect.width, y: ((e.clientY - rect.top) * H) / rect.height };
  }
  const clampMove = (id, dx, dy) => {
    const [y, x] = model.get("centroids")[id];
    return { dx: Math.min(Math.max(dx, -x), W - 1 - x), dy: Math.min(Math.max(dy, -y), H - 1 - y) };
  };

  svg.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    root.focus({ preventScroll: true });
    const g = e.target.closest && e.target.closest("g.imie-el");
    if (!g) { select(-1); return; }
    const id = Number(g.dataset.id);
    if (model.get("selected") !== id) select(id);
    svg.setPointerCapture(e.pointerId);
    drag = { id, start: toImage(e), startClient: [e.clientX, e.clientY], dx: 0, dy: 0 };
  });
  svg.addEventListener("pointermove", (e) => {
    if (!drag) return;
    const p = toImage(e);
    const d = clampMove(drag.id, p.x - drag.start.x, p.y - drag.start.y);
    drag.dx = d.dx; drag.dy = d.dy;
    const [y, x] = model.get("centroids")[drag.id];
    const g = groups.get(drag.id); // looked up each time: a redraw may have replaced it
    if (g) g.setAttribute("transform", `translate(${x + d.dx + 0.5} ${y + d.dy + 0.5})`);
  });
  const endDrag = (e) => {
    if (!drag) return;
    const d = drag;
    drag = null;
    try { svg.releasePointerCapture(e.pointerId); } catch (_) {}
    const moved = Math.hypot(e.clientX - d.startClient[0], e.clientY - d.startClient[1]) >= 2;
    if (moved && (d.dx !== 0 || d.dy !== 0)) send({ op: "move", id: d.id, dx: d.dx, dy: d.dy });
    else draw();
  };
  svg.addEventListener("pointerup", endDrag);
  svg.addEventListener("pointercancel", endDrag);

  const resize = (f) => { const id = selectedId(); if (id >= 0) send({ op: "resize", id, scale: f }); };
  const remove = () => { const id = selectedId(); if (id >= 0) send({ op: "delete", id }); };
  const nudge = (dx, dy) => {
    const id = selectedId();
    if (id < 0) return;
    const d = clampMove(id, dx, dy);
    if (d.dx !== 0 || d.dy !== 0) send({ op: "move", id, dx: d.dx, dy: d.dy });
  };
  shrinkBtn.addEventListener("click", () => resize(SHRINK));
  growBtn.addEventListener("click", () => resize(GROW));
  delBtn.addEventListener("click", remove);
  root.addEventListener("keydown", (e) => {
    const step = e.shiftKey ? 10 : 1;
    const keys = {
      Delete: remove, Backspace: remove, "+": () => resize(GROW), "=": () => resize(GROW), "-": () => resize(SHRINK),
      ArrowLeft: () => nudge(-step, 0), ArrowRight: () => nudge(step, 0), ArrowUp: () => nudge(0, -step), ArrowDown: () => nudge(0, step),
      Escape: () => select(-1),
    };
    if (!(e.key in keys)) return;
    e.preventDefault();
    e.stopPropagation();
    keys[e.key]();
  });

  const onMsg = (msg) => {
    if (msg && msg.error) {
      info.textContent = msg.error;
      info.classList.add("imie-error");
      draw();
    }
  };
  const onImage = () => { layout(); draw(); };
  const handlers = [
    ...["centroids", "sizes", "alive", "selected"].map((k) => ["change:" + k, draw]),
    ...["image_url", "width", "height", "display_width"].map((k) => ["change:" + k, onImage]),
    ["msg:custom", onMsg],
  ];
  for (const [ev, f] of handlers) model.on(ev, f);
  layout(); draw();
  return () => { for (const [ev, f] of handlers) model.off(ev, f); };
}

export default { render };
