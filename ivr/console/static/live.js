// The live page: ask where the phone recording calls are every few seconds and move the
// highlight; a call that starts or ends reloads the page, which the server draws.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const live = document.getElementById("live");
  if (!live) return;
  const note = document.getElementById("live-note");
  const every = Math.max(1, Number(live.dataset.poll) || 2) * 1000;
  const shown = (live.dataset.calls || "").split(" ").filter(Boolean).sort().join(" ");

  const field = (root, name) => root.querySelector(`[data-field="${name}"]`);
  // The page's words come in the operator's language: data-* attributes and the JSON.
  const setText = (element, text) => {
    if (element && element.textContent !== text) element.textContent = text;
  };

  function follow(call) {
    const section = live.querySelector(`section[data-call="${CSS.escape(call.id)}"]`);
    if (!section || Number(section.dataset.total) !== call.prompts.length) return false;
    const index = call.prompt_id ? call.number - 1 : call.total;
    setText(field(section, "position"), call.position);
    setText(field(section, "step"), call.step_label);
    setText(field(section, "prompt_id"), call.prompt_id || "");
    setText(field(section, "text"), call.text);
    setText(field(section, "age"), call.age);
    section.querySelectorAll("li[data-index]").forEach((item) => {
      const i = Number(item.dataset.index);
      const now = i === index;
      item.classList.toggle("now", now);
      item.classList.toggle("done", i < index);
      if (now) item.setAttribute("aria-current", "step");
      else item.removeAttribute("aria-current");
      setText(field(item, "marker"), now ? live.dataset.now : (i < index ? live.dataset.kept : ""));
    });
    return true;
  }

  async function poll() {
    try {
      const response = await fetch(live.dataset.url, {headers: {Accept: "application/json"},
                                                      cache: "no-store"});
      if (!response.ok) throw new Error(String(response.status));
      const data = await response.json();
      const calls = data.calls || [];
      if (calls.map((call) => call.id).sort().join(" ") !== shown ||
          !calls.every(follow)) {
        window.location.reload();
        return;
      }
      setText(note, (live.dataset.updated || "").replace("%(time)s",
        new Date().toLocaleTimeString(document.documentElement.lang)));
    } catch (error) {
      // Signed out (the sign-in page is not JSON) or the server is away: say so, keep trying.
      setText(note, live.dataset.away);
    }
    window.setTimeout(poll, every);
  }
  window.setTimeout(poll, every);
});
