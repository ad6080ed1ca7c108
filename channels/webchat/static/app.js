// safecontact web chat. Keeps nothing on the device: no cookies, no
// storage; the session token lives only in this variable.
(function () {
  "use strict";
  var exitURL = document.querySelector('meta[name="exit-url"]').content;
  var token = "";
  var lastID = ""; // the last event shown: its id, sent back on reconnecting
  var retry = 0; // reconnects since the stream last worked
  var reading = null; // AbortController of the event stream
  var reconnect = null; // the timer that opens the stream again
  var outgoing = []; // the tenant's messages not yet answered, the first being sent (sendFirst)
  var log = document.getElementById("log");
  var form = document.getElementById("form");
  var input = document.getElementById("text");
  var status = document.getElementById("status");
  var startBtn = document.getElementById("start");
  var words = {
    en: {
      you: "You", bot: "Housing team", officer: "Officer", ended: "This chat has ended.", again: "Start again",
      label: "Your message", send: "Send", leave: "Leave this site", failed: "Not sent. Check your connection and try again.",
      stillSending: "Still sending. In an emergency, call 999.",
      quick: "Quick answers",
      exitHint: "To leave fast, select the button or press Shift 3 times. This hides and ends the chat. If we have already passed your details to our officers, they still have them. To have what you told us deleted, from what officers see too, send DELETE here before you leave.",
      history: "This chat saves no cookies or data on this device, but your browser history can still show this page. You can delete it from your history, or next time use a private (incognito) window."
    },
    cy: {
      you: "Chi", bot: "Tîm tai", officer: "Swyddog", ended: "Mae'r sgwrs wedi dod i ben.", again: "Dechrau eto",
      label: "Eich neges", send: "Anfon", leave: "Gadael y wefan", failed: "Heb ei anfon. Gwiriwch eich cysylltiad a rhowch gynnig arall arni.",
      stillSending: "Yn dal i anfon. Argyfwng: 999.",
      quick: "Atebion cyflym",
      exitHint: "I adael yn gyflym, dewiswch y botwm neu pwyswch Shift 3 gwaith. Mae hyn yn cuddio ac yn cau'r sgwrs. Os ydym eisoes wedi rhoi eich manylion i'n swyddogion, mae'r manylion ganddyn nhw o hyd. I ddileu beth ddywedoch wrthym, o beth mae swyddogion yn ei weld hefyd, anfonwch DILEU yma cyn gadael.",
      history: "Nid yw'r sgwrs hon yn cadw cwcis na data ar y ddyfais hon, ond gall hanes eich porwr ddal i ddangos y dudalen hon. Gallwch ei dileu o'ch hanes, neu y tro nesaf defnyddiwch ffenestr breifat (incognito)."
    }
  };
  var lang = "en";

  function setLang(l) {
    if (!words[l] || l === lang) return;
    lang = l;
    document.documentElement.lang = l;
    document.getElementById("text-label").textContent = words[l].label;
    document.getElementById("send").textContent = words[l].send;
    document.getElementById("exit").textContent = words[l].leave;
    startBtn.textContent = words[l].again;
    document.getElementById("exit-hint").textContent = words[l].exitHint;
    document.getElementById("history-note").textContent = words[l].history;
    var groups = log.querySelectorAll(".choices");
    for (var i = 0; i < groups.length; i++) groups[i].setAttribute("aria-label", words[l].quick);
  }

  // Only the newest question's answers can be pressed: any new message
  // removes the buttons offered before it.
  function clearChoices() {
    var groups = log.querySelectorAll(".choices");
    for (var i = 0; i < groups.length; i++) groups[i].parentNode.removeChild(groups[i]);
  }

  // choicesFor builds the buttons for a question's answers, each sending
  // its text as if typed.
  function choicesFor(choices, l) {
    var group = document.createElement("div");
    group.className = "choices";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", words[lang].quick);
    choices.forEach(function (c) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "choice";
      if (l) b.lang = l;
      b.textContent = c.label;
      b.addEventListener("click", function (ev) {
        // Keep the keyboard where typing goes on, as after sending a
        // typed message; a tap on a touch screen leaves the on-screen
        // keyboard closed.
        var refocus = group.contains(document.activeElement) && ev.pointerType !== "touch" && ev.pointerType !== "pen";
        say(c.send);
        if (refocus) input.focus();
      });
      group.appendChild(b);
    });
    return group;
  }

  function add(cls, who, text, l, choices) {
    clearChoices();
    var li = document.createElement("li");
    li.className = cls;
    if (l) li.lang = l;
    var w = document.createElement("span");
    w.className = "who";
    w.textContent = who;
    li.appendChild(w);
    li.appendChild(document.createTextNode(text));
    if (choices && choices.length) li.appendChild(choicesFor(choices, l));
    log.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  // api posts to the chat's API for the chat whose token is tok ("" for
  // none yet).
  function api(path, body, tok) {
    return fetch("/chat/api/" + path, {
      method: "POST",
      headers: tok ? { "Content-Type": "application/json", "Authorization": "Bearer " + tok } : { "Content-Type": "application/json" },
      body: JSON.stringify(body || {}),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer"
    });
  }

  // forget lets go of the chat: its token, its messages not yet sent,
  // its event stream and any reconnection waiting. Nothing begun for it
  // acts any more (each checks the token it began with).
  function forget() {
    token = "";
    outgoing = [];
    clearTimeout(reconnect);
    reconnect = null;
    if (reading) reading.abort();
    reading = null;
  }

  function ended() {
    forget();
    clearChoices();
    form.classList.add("gone");
    status.textContent = words[lang].ended;
    startBtn.hidden = false;
  }

  // gone says whether a failed answer means the session has ended (or
  // the service forgot it): only then is the tenant offered a fresh
  // start. Anything else (a restart, a deploy, a dropped network) is
  // retried, and the chat carries on where it was.
  function gone(resp) {
    if (resp.status !== 404 && resp.status !== 410) return Promise.resolve(false);
    return resp.json().then(function (b) { return b.code === "no_session"; }, function () { return false; });
  }

  // Server-Sent Events over fetch, so the token stays out of the URL.
  // A dropped stream reconnects with backoff, from the last event shown.
  // Everything it does is for the chat it was opened for (mine): once
  // that chat has ended, or another started, it stops.
  function read() {
    var mine = token;
    if (!mine) return;
    var ctl = new AbortController();
    reading = ctl;
    var headers = { "Authorization": "Bearer " + mine };
    if (lastID) headers["Last-Event-ID"] = lastID;
    fetch("/chat/api/events", { headers: headers, signal: ctl.signal, credentials: "omit", cache: "no-store" })
      .then(function (resp) {
        if (token !== mine) return;
        if (!resp.ok || !resp.body) {
          return gone(resp).then(function (g) {
            if (token !== mine) return;
            if (g) { ended(); return; }
            throw new Error("events " + resp.status);
          });
        }
        retry = 0;
        var reader = resp.body.getReader(), dec = new TextDecoder(), buf = "";
        function pump() {
          return reader.read().then(function (r) {
            if (r.done) throw new Error("closed");
            if (token !== mine) return;
            buf += dec.decode(r.value, { stream: true });
            var i;
            while ((i = buf.indexOf("\n\n")) >= 0) {
              var block = buf.slice(0, i); buf = buf.slice(i + 2);
              var data = block.split("\n").filter(function (l) { return l.indexOf("data: ") === 0; }).map(function (l) { return l.slice(6); }).join("\n");
              if (data) show(JSON.parse(data));
            }
            if (!token) return;
            return pump();
          });
        }
        return pump();
      })
      .catch(function () {
        if (token !== mine || ctl.signal.aborted) return;
        var wait = Math.min(5000, 250 * Math.pow(2, retry++));
        reconnect = setTimeout(read, wait);
      });
  }

  function show(e) {
    lastID = e.id;
    if (e.lang) setLang(e.lang);
    if (e.from === "end") { ended(); return; }
    add(e.from, words[lang][e.from] || "", e.text, e.lang, e.choices);
  }

  function start() {
    forget();
    log.textContent = "";
    lastID = "";
    retry = 0;
    startBtn.hidden = true;
    form.classList.remove("gone");
    status.textContent = "";
    api("session", { lang: document.documentElement.lang }, "").then(function (resp) {
      return resp.json().then(function (b) {
        if (!resp.ok) throw new Error(b.error || "error");
        token = b.token;
        read();
        input.focus();
      });
    }).catch(function (err) { status.textContent = err.message; startBtn.hidden = false; });
  }

  // The tenant's messages go one at a time, in order: each is answered
  // before the next is sent, so a message never overtakes one the
  // service has not answered. Each has its own id: when the answer does
  // not come (a network that drops, a restart or a deploy) it is sent
  // again with the same id, until it is answered, and the service applies
  // and answers it once. Nothing is sent into a chat started after it.
  // say shows the tenant's message, typed or from a button, and queues it.
  function say(text) {
    if (!text || !token) return;
    add("me", words[lang].you, text, lang);
    status.textContent = "";
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    var id = Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
    outgoing.push({ text: text, id: id, chat: token });
    if (outgoing.length === 1) sendFirst();
  }

  // sendFirst sends the first queued message until it is answered, then
  // the next. A message of a chat that has ended is dropped.
  function sendFirst() {
    var m = outgoing[0];
    if (!m) return;
    var tries = 0;
    function current() { return outgoing[0] === m && token === m.chat; }
    function done() {
      if (outgoing[0] !== m) return;
      outgoing.shift();
      sendFirst();
    }
    function again() {
      tries++;
      if (tries >= 3) status.textContent = words[lang].stillSending;
      setTimeout(send, Math.min(5000, 500 * Math.pow(2, tries)));
    }
    function send() {
      if (!current()) { done(); return; }
      api("message", { text: m.text, id: m.id }, m.chat).then(function (resp) {
        if (!current()) { done(); return; }
        if (resp.ok) { status.textContent = ""; done(); return; }
        return gone(resp.clone()).then(function (g) {
          if (!current()) { done(); return; }
          if (g) { ended(); return; }
          if (resp.status >= 500) { again(); return; }
          // Refused (too long, too many): the tenant is told why.
          return resp.json().then(function (b) { status.textContent = b.error || words[lang].failed; }, function () { status.textContent = words[lang].failed; }).then(done);
        });
      }).catch(function () { if (current()) again(); else done(); });
    }
    send();
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = input.value.trim();
    if (!text || !token) return;
    input.value = "";
    say(text);
  });
  startBtn.addEventListener("click", start);

  // The quick exit: hide everything at once, erase the session without
  // waiting, and replace this page so Back does not return to it.
  function exit() {
    document.getElementById("app").classList.add("gone");
    document.title = "";
    if (token) {
      try {
        fetch("/chat/api/end", { method: "POST", keepalive: true, credentials: "omit", headers: { "Authorization": "Bearer " + token } });
      } catch (e) { /* leave anyway */ }
    }
    forget();
    // In a frame on the landlord's site, leave the whole page if the
    // browser lets a frame do so; else at least the frame.
    try { window.top.location.replace(exitURL); } catch (e) { window.location.replace(exitURL); }
  }
  document.getElementById("exit").addEventListener("click", exit);

  // Shift three times, as GOV.UK's exit-this-page counts it: on key-up,
  // within 5 seconds, restarting the window on each press; any other key
  // resets; a Shift held while typing a capital does not count.
  var presses = 0, timer = null, shiftUsed = false;
  var live = document.getElementById("exit-live");
  function reset() { presses = 0; clearTimeout(timer); timer = null; }
  document.addEventListener("keydown", function (e) {
    if (e.key === "Shift") {
      if (!e.repeat) shiftUsed = false;
      return;
    }
    if (e.shiftKey) shiftUsed = true; // Shift is typing a capital
    reset();
  });
  document.addEventListener("keyup", function (e) {
    if (e.key !== "Shift") return;
    if (shiftUsed) { shiftUsed = false; return; }
    presses++;
    clearTimeout(timer);
    timer = setTimeout(function () { reset(); live.textContent = ""; }, 5000);
    if (presses >= 3) { live.textContent = "Leaving"; exit(); return; }
    live.textContent = "Shift pressed " + presses + (presses === 1 ? " time" : " times");
  });

  start();
})();
