// imiebench mask brush: paint / erase a binary mask over an image (anywidget ES module, no imports).
// Model state: image_url (PNG data URL), width, height, display_width, brush_size (diameter, image px),
// mode ('paint'|'erase'), mask_bits (base64 of the H×W mask packed 8 pixels a byte, row-major, MSB first,
// like numpy.packbits). The mask is sent once per stroke, on pointer up, never per mouse move.

function b64ToBytes(s) {
  const bin = atob(s), out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
function bytesToB64(b) {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000));
  return btoa(s);
}
export function unpackMask(s, n) {
  const m = new Uint8Array(n);
  if (!s) return m;
  const b = b64ToBytes(s);
  if (b.length !== Math.ceil(n / 8)) return m;
  for (let i = 0; i < n; i++) m[i] = (b[i >> 3] >> (7 - (i & 7))) & 1;
  return m;
}
export function packMask(m) {
  const b = new Uint8Array(Math.ceil(m.length / 8));
  for (let i = 0; i < m.length; i++) if (m[i]) b[i >> 3] |= 128 >> (i & 7);
  return bytesToB64(b);
}

const COLOR = [255, 30, 90, 150]; // RGBA of painted pixels in the overlay

function h(tag, cls, attrs = {}) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function render({ model, el }) {
  const root = h("div", "imie-widget imie-brush");
  const bar = h("div", "imie-toolbar");
  const paintBtn = h("button", "imie-btn imie-paint", { type: "button", title: "paint (hold Alt to erase)" });
  paintBtn.textContent = "paint";
  const eraseBtn = h("button", "imie-btn imie-erase", { type: "button", title: "erase" });
  eraseBtn.textContent = "erase";
  const sizeLabel = h("label", "imie-size");
  sizeLabel.textContent = "size ";
  const size = h("input", "imie-size-input", { type: "range", min: "1", step: "1" });
  const sizeVal = h("span", "imie-size-value");
  sizeLabel.append(size, sizeVal);
  const clearBtn = h("button", "imie-btn imie-clear", { type: "button", title: "clear the mask" });
  clearBtn.textContent = "clear";
  const info = h("span", "imie-info");
  bar.append(paintBtn, eraseBtn, sizeLabel, clearBtn, info);

  const stage = h("div", "imie-stage");
  const img = h("img", "imie-image", { draggable: "false", alt: "image" });
  const canvas = h("canvas", "imie-mask");
  const cursor = h("div", "imie-cursor");
  stage.append(img, canvas, cursor);
  root.append(bar, stage);
  el.appendChild(root);

  const ctx = canvas.getContext("2d");
  let W = 0, H = 0, mask = new Uint8Array(0), overlay = null, drawing = false, last = null, value = 1;

  function layout() {
    W = model.get("width"); H = model.get("height");
    const dw = model.get("display_width") || W;
    stage.style.width = dw + "px";
    stage.style.height = Math.round((dw * H) / W) + "px";
    if (canvas.width !== W || canvas.height !== H) { canvas.width = W; canvas.height = H; }
    img.src = model.get("image_url");
    size.max = String(Math.max(64, Math.ceil(Math.max(W, H) / 2)));
  }
  function paintAll() {
    overlay = ctx.createImageData(W, H);
    const d = overlay.data;
    for (let i = 0; i < mask.length; i++) if (mask[i]) d.set(COLOR, 4 * i);
    ctx.putImageData(overlay, 0, 0);
    showCount();
  }
  function showCount() {
    let n = 0;
    for (let i = 0; i < mask.length; i++) n += mask[i];
    info.textContent = n + " px";
    root.dataset.maskPixels = String(n);
  }
  function loadMask() {
    if (drawing) return; // a stroke in progress wins; it is sent on pointer up
    mask = unpackMask(model.get("mask_bits"), W * H);
    paintAll();
  }
  function syncControls() {
    const mode = model.get("mode");
    paintBtn.classList.toggle("imie-active", mode === "paint");
    eraseBtn.classList.toggle("imie-active", mode === "erase");
    size.value = String(model.get("brush_size"));
    sizeVal.textContent = String(model.get("brush_size"));
  }

  // Hard-edged disc: pixel (x, y) is set when its centre is within radius r of (cx, cy);
  // the pixel under the pointer is always set, so a 1-px brush paints single pixels.
  function stamp(cx, cy) {
    const r = model.get("brush_size") / 2, r2 = r * r;
    const x0 = Math.max(0, Math.floor(cx - r)), x1 = Math.min(W - 1, Math.ceil(cx + r));
    const y0 = Math.max(0, Math.floor(cy - r)), y1 = Math.min(H - 1, Math.ceil(cy + r));
    const d = overlay.data;
    const set = (x, y) => {
      const i = y * W + x;
      mask[i] = value;
      if (value) d.set(COLOR, 4 * i); else d.fill(0, 4 * i, 4 * i + 4);
    };
    for (let y = y0; y <= y1; y++)
      for (let x = x0; x <= x1; x++) {
        const dx = x + 0.5 - cx, dy = y + 0.5 - cy;
        if (dx * dx + dy * dy <= r2) set(x, y);
      }
    const px = Math.floor(cx), py = Math.floor(cy);
    if (px >= 0 && px < W && py >= 0 && py < H) set(px, py);
    if (x1 >= x0 && y1 >= y0) ctx.putImageData(overlay, 0, 0, x0, y0, x1 - x0 + 1, y1 - y0 + 1);
  }
  function line(a, b) {
    const r = model.get("brush_size") / 2;
    const dist = Math.hypot(b.x - a.x, b.y - a.y), step = Math.max(0.5, r / 2);
    const n = Math.max(1, Math.ceil(dist / step));
    for (let i = 1; i <= n; i++) stamp(a.x + ((b.x - a.x) * i) / n, a.y + ((b.y - a.y) * i) / n);
  }
  function toImage(e) {
    const rect = canvas.getBoundingClientRect();
    return { x: ((e.clientX - rect.left) * W) / rect.width, y: ((e.clientY - rect.top) * H) / rect.height };
  }
  function moveCursor(e) {
    const rect = canvas.getBoundingClientRect(), scale = rect.width / W;
    const d = model.get("brush_size") * scale;
    cursor.style.width = cursor.style.height = d + "px";
    cursor.style.left = e.clientX - rect.left - d / 2 + "px";
    cursor.style.top = e.clientY - rect.top - d / 2 + "px";
  }
  function endStroke(e) {
    if (!drawing) return;
    drawing = false;
    try { canvas.releasePointerCapture(e.pointerId); } catch (_) {}
    showCount();
    model.set("mask_bits", packMask(mask));
    model.save_changes();
  }

  canvas.addEventListener("pointerdown", (e) => {
    if (e.button !== 0) return;
    e.preventDefault();
    canvas.setPointerCapture(e.pointerId);
    drawing = true;
    value = (model.get("mode") === "erase") !== e.altKey ? 0 : 1;
    last = toImage(e);
    stamp(last.x, last.y);
  });
  canvas.addEventListener("pointermove", (e) => {
    moveCursor(e);
    if (!drawing) return;
    const p = toImage(e);
    line(last, p);
    last = p;
  });
  canvas.addEventListener("pointerup", endStroke);
  canvas.addEventListener("pointercancel", endStroke);
  canvas.addEventListener("lostpointercapture", endStroke);
  canvas.addEventListener("pointerleave", () => { cursor.style.display = "none"; });
  canvas.addEventListener("pointerenter", () => { cursor.style.display = "block"; });

  paintBtn.addEventListener("click", () => { model.set("mode", "paint"); model.save_changes(); });
  eraseBtn.addEventListener("click", () => { model.set("mode", "erase"); model.save_changes(); });
  size.addEventListener("input", () => { model.set("brush_size", Number(size.value)); model.save_changes(); });
  clearBtn.addEventListener("click", () => {
    mask.fill(0);
    paintAll();
    model.set("mask_bits", packMask(mask));
    model.save_changes();
  });

  const onImage = () => { layout(); loadMask(); };
  const handlers = [["change:image_url", onImage], ["change:width", onImage], ["change:height", onImage],
                    ["change:display_width", layout], ["change:mask_bits", loadMask],
                    ["change:mode", syncControls], ["change:brush_size", syncControls]];
  for (const [ev, fn] of handlers) model.on(ev, fn);
  layout(); loadMask(); syncControls();
  return () => { for (const [ev, fn] of handlers) model.off(ev, fn); };
}

export default { render };
