// The scheme editor's script: keeps the form and the YAML text in step and shows the
// validator's messages as one types. Everything it does the page also does without it
// (the 检查 / 保存 buttons post the whole form); no library, no build step.
"use strict";

(function () {
  const form = document.getElementById("editor");
  if (!form) return;
  const yaml = document.getElementById("yaml");
  const doc = document.getElementById("doc");
  const source = document.getElementById("source");
  const formView = document.getElementById("form-view");
  let timer = null;
  let sent = 0;
  let dirty = form.dataset.dirty === "1";

  // ---------------------------------------------------------------- tabs
  const tabs = form.querySelector(".tabs");
  const views = form.querySelectorAll(".view");
  function show(id) {
    views.forEach((v) => { v.hidden = v.id !== id; });
    tabs.querySelectorAll("[role=tab]").forEach((t) => {
      t.setAttribute("aria-selected", String(t.dataset.view === id));
    });
  }
  tabs.hidden = false;
  form.classList.add("tabbed");
  tabs.addEventListener("click", (e) => {
    const tab = e.target.closest("[role=tab]");
    if (tab) show(tab.dataset.view);
  });
  show("form-view");

  // ---------------------------------------------------------------- unsaved changes
  function markDirty() {
    dirty = true;
    document.getElementById("unsaved").hidden = false;
  }
  window.addEventListener("beforeunload", (e) => {
    if (dirty) { e.preventDefault(); e.returnValue = ""; }
  });
  form.addEventListener("submit", () => { dirty = false; });

  // ---------------------------------------------------------------- checking
  function place(slots) {
    form.querySelectorAll(".msgs").forEach((el) => { el.innerHTML = ""; });
    for (const [slot, html] of Object.entries(slots)) {
      const el = document.getElementById("msg:" + slot);
      if (el) el.innerHTML = html;
    }
  }

  async function check() {
    const body = new FormData(form);
    body.set("action", "check");
    const mine = ++sent;
    let answer;
    try {
      const r = await fetch(form.dataset.check, { method: "POST", body, credentials: "same-origin" });
      if (!r.ok) {
        // the sentence comes from the page (data-check-failed), in the page's language
        const box = document.createElement("div");
        box.className = "status bad";
        box.setAttribute("role", "alert");
        box.textContent = form.dataset.checkFailed.replace("{status}", String(r.status));
        document.getElementById("summary").replaceChildren(box);
        return;
      }
      answer = await r.json();
    } catch (err) {
      return; // offline: the buttons still work
    }
    if (mine !== sent) return; // a newer check is on its way
    document.getElementById("summary").innerHTML = answer.summary;
    document.getElementById("yaml-messages").innerHTML = answer.yaml_messages;
    document.getElementById("preview").innerHTML = answer.preview;
    if (answer.form !== undefined) {
      formView.innerHTML = answer.form;
      doc.value = answer.doc;
    }
    if (answer.yaml !== undefined && document.activeElement !== yaml) yaml.value = answer.yaml;
    place(answer.slots);
    form.dataset.errors = answer.errors;
  }

  function later(from) {
    source.value = from;
    markDirty();
    clearTimeout(timer);
    timer = setTimeout(check, 350);
  }

  formView.addEventListener("input", (e) => { if (e.target.name) later("form"); });
  formView.addEventListener("change", (e) => { if (e.target.name) later("form"); });
  yaml.addEventListener("input", () => later("yaml"));
  // after editing the YAML, the form is rebuilt from it: its fields now hold the same rules
  yaml.addEventListener("blur", () => { if (source.value === "yaml") { clearTimeout(timer); check(); } });
})();
