// The prompt page: placeholders checked and the caller's text previewed as one types, and a
// recorder (MediaRecorder) whose take the browser turns into a WAV file before sending it.
// The server checks everything again; the page works without this file, but for recording.
"use strict";
(() => {
  const PLACEHOLDER = /%\((\w+)\)s/g;
  const STRAY = /%\(|%[sd]|\{\w*\}/;

  // The page's words, in the operator's language: data-* attributes the server translated.
  function say(area, which, name) {
    return (area.dataset[which] || "").replace("%(placeholder)s", `%(${name})s`);
  }

  function checkText(area, problems, preview) {
    const expected = new Set((area.dataset.placeholders || "").split(" ").filter(Boolean));
    const values = JSON.parse(area.dataset.values || "{}");
    const text = area.value;
    const found = new Set(Array.from(text.matchAll(PLACEHOLDER), (m) => m[1]));
    const messages = [];
    [...expected].sort().forEach((name) => {
      if (!found.has(name)) messages.push(say(area, "missing", name));
    });
    [...found].sort().forEach((name) => {
      if (!expected.has(name)) messages.push(say(area, "extra", name));
    });
    if (STRAY.test(text.replace(PLACEHOLDER, ""))) {
      messages.push(say(area, "stray", ""));
    }
    problems.replaceChildren(...messages.map((message) => {
      const p = document.createElement("p");
      p.textContent = message;
      return p;
    }));
    preview.textContent = text.replace(PLACEHOLDER, (whole, name) =>
      Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole);
  }

  function wavFrom(buffer) {
    // 16-bit PCM mono at the recording's own rate; the server resamples to 8 kHz.
    const samples = buffer.getChannelData(0);
    const view = new DataView(new ArrayBuffer(44 + samples.length * 2));
    const text = (offset, s) => [...s].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
    text(0, "RIFF"); view.setUint32(4, 36 + samples.length * 2, true); text(8, "WAVE");
    text(12, "fmt "); view.setUint32(16, 16, true); view.setUint16(20, 1, true);
    view.setUint16(22, 1, true); view.setUint32(24, buffer.sampleRate, true);
    view.setUint32(28, buffer.sampleRate * 2, true); view.setUint16(32, 2, true);
    view.setUint16(34, 16, true); text(36, "data"); view.setUint32(40, samples.length * 2, true);
    samples.forEach((value, i) => {
      const clamped = Math.max(-1, Math.min(1, value));
      view.setInt16(44 + i * 2, clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff, true);
    });
    return new Blob([view], { type: "audio/wav" });
  }

  function setUpRecorder(box, upload) {
    if (!window.MediaRecorder || !navigator.mediaDevices) return;
    box.hidden = false;
    const start = box.querySelector("#record-start");
    const stop = box.querySelector("#record-stop");
    const submit = box.querySelector("#record-submit");
    const status = box.querySelector("#record-status");
    const playback = box.querySelector("#record-playback");
    let recorder = null;
    let take = null;
    start.addEventListener("click", async () => {
      try {
        // The voice as spoken: automatic gain pumps the level and can drive it into
        // clipping; the server evens the level out itself.
        const stream = await navigator.mediaDevices.getUserMedia({ audio: {
          autoGainControl: false, echoCancellation: false, noiseSuppression: false } });
        const chunks = [];
        recorder = new MediaRecorder(stream);
        recorder.addEventListener("dataavailable", (event) => chunks.push(event.data));
        recorder.addEventListener("stop", async () => {
          stream.getTracks().forEach((track) => track.stop());
          const recorded = new Blob(chunks, { type: recorder.mimeType });
          const context = new AudioContext();
          take = wavFrom(await context.decodeAudioData(await recorded.arrayBuffer()));
          context.close();
          playback.src = URL.createObjectURL(take);
          playback.parentElement.hidden = false;
          submit.disabled = false;
          start.textContent = box.dataset.again;
          status.textContent = box.dataset.listen;
        });
        recorder.start();
        start.disabled = true;
        stop.disabled = false;
        submit.disabled = true;
        status.textContent = box.dataset.recording;
      } catch (error) {
        status.textContent = `${box.dataset.noMicrophone} ${error.message}`;
      }
    });
    stop.addEventListener("click", () => {
      if (recorder && recorder.state === "recording") recorder.stop();
      stop.disabled = true;
      start.disabled = false;
    });
    submit.addEventListener("click", () => {
      // The take goes through the upload form: a plain form post, CSRF token included.
      if (!take) return;
      const transfer = new DataTransfer();
      transfer.items.add(new File([take], "browser.wav", { type: "audio/wav" }));
      upload.querySelector('input[type="file"]').files = transfer.files;
      upload.querySelector('input[name="how"]').value = "browser";
      submit.disabled = true;
      status.textContent = box.dataset.sending;
      upload.submit();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const area = document.getElementById("text");
    const problems = document.getElementById("problems");
    const preview = document.getElementById("preview");
    if (area && problems && preview) {
      area.addEventListener("input", () => checkText(area, problems, preview));
    }
    const box = document.getElementById("recorder");
    const upload = document.getElementById("upload-form");
    if (box && upload) setUpRecorder(box, upload);
  });
})();
