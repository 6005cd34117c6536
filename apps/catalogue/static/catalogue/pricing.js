/* Pricing page: pick up to N offers (data-compare-max) and open /pricing/compare/?offers=A,B.
 * Without JavaScript the form still works: the browser sends ?offers=A&offers=B and the
 * server checks the limit. */
(function () {
  "use strict";
  var form = document.getElementById("compare-form");
  if (!form) return;
  var max = parseInt(form.getAttribute("data-compare-max") || "4", 10);
  var count = document.getElementById("compare-count");
  var submit = document.getElementById("compare-submit");
  var bar = form.querySelector(".compare-bar");
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input.compare-check"));

  function checked() {
    return boxes.filter(function (b) { return b.checked; });
  }

  function update() {
    var picked = checked();
    boxes.forEach(function (b) {
      b.disabled = !b.checked && picked.length >= max;
    });
    count.textContent = picked.length
      ? form.getAttribute("data-label-some").replace("{n}", String(picked.length))
      : form.getAttribute("data-label-none");
    submit.disabled = picked.length < 2;
    if (bar) bar.classList.toggle("is-idle", picked.length === 0);
  }

  form.addEventListener("change", update);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var codes = checked().map(function (b) { return encodeURIComponent(b.value); });
    window.location.assign(form.getAttribute("action") + "?offers=" + codes.join(","));
  });
  update();
})();
