// Small progressive enhancements; every page works without this file.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Try it: the computer keyboard's digits, * and # press the keypad's buttons.
  const keypad = document.getElementById("keypad-form");
  if (keypad) {
    document.addEventListener("keydown", (event) => {
      const target = event.target;
      if (event.ctrlKey || event.altKey || event.metaKey) return;
      if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement ||
          target instanceof HTMLSelectElement) return;
      const button = keypad.querySelector(`button[data-key="${CSS.escape(event.key)}"]`);
      if (button) {
        event.preventDefault();
        button.click();
      }
    });
  }
  // Try it: play the step's recordings one after the other, as the caller hears them.
  const players = Array.from(document.querySelectorAll("#heard audio"));
  players.forEach((player, index) => {
    player.addEventListener("ended", () => {
      const next = players[index + 1];
      if (next) next.play().catch(() => {});
    });
  });
  if (players.length) players[0].play().catch(() => {});
  // Menu: open the folded menu and prompt a link or a return points at (#node-…, #p-…).
  const openTarget = () => {
    let target = document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
    for (; target; target = target.parentElement) {
      if (target instanceof HTMLDetailsElement) target.open = true;
    }
  };
  openTarget();
  window.addEventListener("hashchange", openTarget);
  // Script: a print button (the browser's print dialog also saves a PDF).
  document.querySelectorAll(".print-button").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  });
});
