// Attune dashboard: live progress of training jobs. Rows marked data-job poll the API (the
// session cookie authenticates GET requests) until the job ends, then the page reloads so
// that the registry shows the version it produced.
"use strict";
(function () {
  const rows = document.querySelectorAll("tr[data-job][data-live='true']");
  if (rows.length === 0) return;
  const final = new Set(["succeeded", "failed", "cancelled"]);
  let pending = rows.length;
  rows.forEach(function (row) {
    const id = row.getAttribute("data-job");
    const bar = row.querySelector("progress");
    const status = row.querySelector("[data-field='status']");
    const stage = row.querySelector("[data-field='stage']");
    const tick = function () {
      fetch("/v1/jobs/" + encodeURIComponent(id), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (job) {
          if (bar && job.total > 0) { bar.max = job.total; bar.value = job.done; bar.textContent = job.done + " / " + job.total; }
          if (status) { status.textContent = job.status; status.className = "badge " + job.status; }
          if (stage) { stage.textContent = job.stage + (job.total > 0 ? " " + job.done + " / " + job.total : ""); }
          row.setAttribute("data-status", job.status);
          if (final.has(job.status)) {
            pending -= 1;
            if (pending === 0) setTimeout(function () { window.location.reload(); }, 800);
          } else {
            setTimeout(tick, 500);
          }
        })
        .catch(function () { setTimeout(tick, 2000); });
    };
    tick();
  });
})();
