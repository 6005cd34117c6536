// The browser console: connect the vendored noVNC (static/vendor/novnc, npm @novnc/novnc 1.7.0)
// to VMCloud's console proxy with the single-use ticket in data-url. No Proxmox address ever reaches here.
import RFB from "../vendor/novnc/core/rfb.js";

const card = document.getElementById("vnc-console");
const status = document.getElementById("vnc-status");
const setStatus = (key, badge) => {
  status.textContent = status.dataset[key];
  status.className = `badge badge-${badge}`;
  card.dataset.state = key;
};

const rfb = new RFB(document.getElementById("vnc-screen"), card.dataset.url);
rfb.scaleViewport = true;
rfb.addEventListener("connect", () => setStatus("connected", "success"));
rfb.addEventListener("disconnect", () => setStatus("disconnected", "muted"));
document.getElementById("vnc-cad").addEventListener("click", () => rfb.sendCtrlAltDel());
