/*
 * The practice's chat widget: one <script> tag, no framework, no third-party requests.
 *
 *   <script src="https://your-site/widget/widget.js" data-server="https://chat.your-site"
 *           data-title="Questions about leaky gut?" data-accent="#0f6b5c"
 *           data-position="right" data-open="false" data-bot-name="Assistant"
 *           data-application-url="https://your-site/apply" defer></script>
 *
 * Talks to the assistant's `website` channel (POST /webhooks/website/{start,message,
 * history,event}). Every text is rendered with textContent; links only https: and mailto:.
 * docs/WIDGET.md describes every attribute.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__practiceChatWidget) return;
  window.__practiceChatWidget = true;

  var MAX_CHARS = 2000; // the channel's cap (practice/channels/validation.py)
  var COUNT_FROM = 1500; // the character counter shows from here on
  var TIMEOUT_MS = 20000; // slower than this counts as a failure the visitor can retry
  var DEFAULT_ACCENT = "#0f6b5c";
  var KEY = "practice-chat:";

  // ---- settings from the script tag --------------------------------------------------
  var data = script.dataset;
  var scriptUrl = new URL(script.src, document.baseURI);
  var server = (data.server || scriptUrl.origin).replace(/\/+$/, "");
  var title = (data.title || "Questions? Chat with us").slice(0, 80);
  var accent = /^#([0-9a-f]{3}){1,2}$/i.test(data.accent || "") ? data.accent : DEFAULT_ACCENT;
  var position = data.position === "left" ? "left" : "right";
  var openOnLoad = data.open === "true";
  var botName = (data.botName || "Assistant").slice(0, 40);
  var avatarUrl = data.avatar || "";
  var applyLabel = (data.applyLabel || "Apply for 1:1 coaching").slice(0, 60);

  // ---- storage that survives reloads and pages; memory when the browser refuses --------
  var memory = {};
  function load(store, key) {
    try { return window[store].getItem(KEY + key); } catch (e) { return memory[store + key] || null; }
  }
  function save(store, key, value) {
    try {
      if (value === null) window[store].removeItem(KEY + key);
      else window[store].setItem(KEY + key, value);
    } catch (e) { memory[store + key] = value; }
  }

  function newSenderId() {
    var bytes = new Uint8Array(20); // 160 bits
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }
  var sender = load("localStorage", "sender");
  if (!/^[A-Za-z0-9_-]{32,128}$/.test(sender || "")) {
    sender = newSenderId();
    save("localStorage", "sender", sender);
  }

  // Messages typed but not yet answered: kept until the server confirms them.
  function readOutbox() {
    try { return JSON.parse(load("localStorage", "outbox:" + sender) || "[]"); } catch (e) { return []; }
  }
  function writeOutbox(items) {
    save("localStorage", "outbox:" + sender, items.length ? JSON.stringify(items) : null);
  }

  // ---- colours: text on the accent gets whichever of white or near-black contrasts more --
  function luminance(hex) {
    var h = hex.slice(1);
    if (h.length === 3) h = h.replace(/./g, "$&$&");
    var rgb = [0, 2, 4].map(function (i) {
      var c = parseInt(h.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  }
  var accentLum = luminance(accent);
  var onAccent = 1.05 / (accentLum + 0.05) >= (accentLum + 0.05) / 0.0556 ? "#ffffff" : "#111111";

  // ---- DOM helpers ----------------------------------------------------------------------
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function srOnly(text) { return el("span", "lgw-sr", text); }
  function safeUrl(value) {
    if (typeof value !== "string") return null;
    try {
      var url = new URL(value);
      return url.protocol === "https:" || url.protocol === "mailto:" ? url.href : null;
    } catch (e) { return null; }
  }
  // The article may be on this very site over http (the demo): https, or this page's origin.
  function articleUrl(value) {
    try {
      var url = new URL(value, document.baseURI);
      var own = url.protocol === "http:" && url.origin === location.origin;
      return url.protocol === "https:" || own ? url : null;
    } catch (e) { return null; }
  }
  function initials(name) {
    var words = name.split(/\s+/).filter(Boolean);
    return ((words[0] || "?").charAt(0) + (words.length > 1 ? words[words.length - 1].charAt(0) : "")).toUpperCase();
  }
  function avatar() {
    var node = el("span", "lgw-avatar");
    node.setAttribute("aria-hidden", "true");
    var src = avatarUrl && articleUrl(avatarUrl);
    if (src) {
      var img = el("img");
      img.src = src.href;
      img.alt = "";
      node.appendChild(img);
    } else node.textContent = initials(botName);
    return node;
  }
  var clock = { hour: "numeric", minute: "2-digit" };
  function timeNode(seconds) {
    var when = new Date(typeof seconds === "number" ? seconds * 1000 : Date.now());
    var node = el("time", "lgw-time", when.toLocaleTimeString([], clock));
    node.dateTime = when.toISOString();
    return node;
  }

  // ---- the widget's DOM, in a shadow root so the host page's CSS cannot break it --------
  var host = el("div");
  host.id = "practice-chat-widget";
  host.hidden = true; // until the stylesheet has loaded
  host.style.setProperty("--lgw-accent", accent);
  host.style.setProperty("--lgw-on-accent", onAccent);
  var root = host.attachShadow({ mode: "open" });
  var sheet = el("link");
  sheet.rel = "stylesheet";
  sheet.href = new URL("widget.css", scriptUrl).href;
  sheet.addEventListener("load", function () { host.hidden = false; scrollToLatest(); });
  sheet.addEventListener("error", function () { host.hidden = false; scrollToLatest(); });
  root.appendChild(sheet);

  var frame = el("div", "lgw lgw--" + position);
  var launcher = el("button", "lgw-launcher");
  launcher.type = "button";
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "lgw-panel");
  launcher.appendChild(el("span", "lgw-launcher-icon")).setAttribute("aria-hidden", "true");
  launcher.appendChild(el("span", "lgw-launcher-label", title));

  var panel = el("section", "lgw-panel");
  panel.id = "lgw-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-labelledby", "lgw-title");

  var header = el("div", "lgw-header");
  var heading = el("h2", "lgw-title", title);
  heading.id = "lgw-title";
  heading.tabIndex = -1;
  var restart = el("button", "lgw-header-button", "Start over");
  restart.type = "button";
  restart.setAttribute("aria-controls", "lgw-confirm");
  restart.setAttribute("aria-expanded", "false");
  var close = el("button", "lgw-header-button lgw-close");
  close.type = "button";
  close.setAttribute("aria-label", "Close chat");
  close.appendChild(el("span", "", "\u00d7")).setAttribute("aria-hidden", "true");
  var who = el("div", "lgw-who");
  who.append(avatar(), heading);
  header.append(who, restart, close);

  // "Start over" asks first: the conversation on screen would be gone.
  var confirmBox = el("div", "lgw-confirm");
  confirmBox.id = "lgw-confirm";
  confirmBox.hidden = true;
  confirmBox.setAttribute("role", "group");
  confirmBox.setAttribute("aria-labelledby", "lgw-confirm-text");
  var confirmText = el("p", "lgw-confirm-text", "Start a new conversation? This one will be cleared from this window.");
  confirmText.id = "lgw-confirm-text";
  var confirmYes = el("button", "lgw-confirm-yes", "Yes, start over");
  confirmYes.type = "button";
  var confirmNo = el("button", "lgw-confirm-no", "Cancel");
  confirmNo.type = "button";
  confirmBox.append(confirmText, confirmYes, confirmNo);

  // The application form, always one click away (its URL comes from the page or the server).
  var applyBar = el("div", "lgw-apply-bar");
  applyBar.hidden = true;
  var applyLink = el("a", "lgw-apply", applyLabel);
  applyLink.target = "_blank";
  applyLink.rel = "noopener noreferrer";
  applyLink.addEventListener("click", function () { reportClick(applyLink.href); });
  applyBar.appendChild(applyLink);
  var applyHref = null;
  var safetyMode = false; // after a safety message the pitch stays out of sight
  function setApplyUrl(value) {
    var href = safeUrl(value);
    if (href) { applyHref = href; applyLink.href = href; }
    applyBar.hidden = !applyHref || safetyMode;
  }
  setApplyUrl(data.applicationUrl);
  var log = el("div", "lgw-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Conversation");
  log.tabIndex = 0;

  var typing = el("div", "lgw-typing");
  typing.hidden = true;
  typing.setAttribute("role", "status");
  typing.appendChild(srOnly("The assistant is typing"));
  for (var i = 0; i < 3; i++) typing.appendChild(el("span", "lgw-dot")).setAttribute("aria-hidden", "true");

  var alertBox = el("div", "lgw-alert");
  alertBox.setAttribute("role", "alert");
  var alertText = el("p", "lgw-alert-text");
  var alertRetry = el("button", "lgw-alert-retry", "Retry");
  alertRetry.type = "button";
  alertBox.hidden = true;
  alertBox.append(alertText, alertRetry);

  var form = el("form", "lgw-form");
  form.noValidate = true;
  var inputLabel = el("label", "lgw-sr", "Your message");
  inputLabel.htmlFor = "lgw-input";
  var input = el("textarea", "lgw-input");
  input.id = "lgw-input";
  input.rows = 1;
  input.maxLength = MAX_CHARS;
  input.placeholder = "Type your question\u2026";
  input.setAttribute("autocomplete", "off");
  var send = el("button", "lgw-send", "Send");
  send.type = "submit";
  var counter = el("p", "lgw-counter");
  counter.id = "lgw-counter";
  counter.hidden = true;
  var counterNote = el("span", "lgw-sr"); // announced at a few thresholds, not per keystroke
  counterNote.setAttribute("aria-live", "polite");
  input.setAttribute("aria-describedby", "lgw-counter");
  form.append(inputLabel, input, send, counter, counterNote);

  panel.append(header, confirmBox, applyBar, log, typing, alertBox, form);
  frame.append(launcher, panel);
  root.appendChild(frame);

  // ---- talking to the server ------------------------------------------------------------
  function call(path, body, options) {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    // text/plain keeps it a CORS "simple" request: no preflight round trip per message.
    return fetch(server + "/webhooks/website/" + path, {
      method: "POST",
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
      body: JSON.stringify(Object.assign({ sender: sender }, body)),
      credentials: "omit",
      cache: "no-store",
      keepalive: Boolean(options && options.keepalive),
      signal: controller.signal
    }).then(function (res) {
      clearTimeout(timer);
      if (!res.ok) { var err = new Error("HTTP " + res.status); err.status = res.status; throw err; }
      return res.json();
    }, function (err) {
      clearTimeout(timer);
      throw err;
    });
  }

  function problemText(err, sending) {
    if (err && err.status === 429) return "You're sending messages quickly. Wait a moment, then retry.";
    if (err && err.name === "AbortError") return "The assistant is taking too long to answer.";
    if (err && err.status >= 400 && err.status < 500 && sending) {
      return "The assistant couldn't take that message. Please shorten or rephrase it.";
    }
    return sending
      ? "Your message wasn't sent: we can't reach the assistant right now."
      : "We can't reach the assistant right now. Check your connection and try again.";
  }

  // ---- rendering -------------------------------------------------------------------------
  function scrollDown() { log.scrollTop = log.scrollHeight; }
  // The latest message, at once and again once laid out: after a reload the history can
  // arrive before the stylesheet (the widget is hidden until then, nothing has a height).
  function scrollToLatest() {
    log.scrollTo({ top: log.scrollHeight, behavior: "instant" });
    requestAnimationFrame(function () {
      requestAnimationFrame(function () { log.scrollTo({ top: log.scrollHeight, behavior: "instant" }); });
    });
  }
  // A long answer is read from its start: show the question, then as much answer as fits.
  function reveal(node) { log.scrollTop = Math.max(0, node.offsetTop - 8); }

  function appendText(parent, text) {
    // Bare https:// addresses become links; everything else stays text.
    var pattern = /https:\/\/[^\s<>"']+/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text))) {
      var raw = match[0].replace(/[.,;:!?)\]]+$/, "");
      var href = safeUrl(raw);
      if (!href) continue;
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      parent.appendChild(link(raw, href, "lgw-inline-link"));
      last = match.index + raw.length;
      pattern.lastIndex = last;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // The bot's text: paragraphs at blank lines, "- item" lines as a list; all as text nodes.
  function renderText(parent, text) {
    var list = null;
    var para = null;
    text.split("\n").forEach(function (line) {
      var item = /^\s*[-*\u2022]\s+(.*)$/.exec(line);
      if (item) {
        para = null;
        if (!list) list = parent.appendChild(el("ul", "lgw-list"));
        appendText(list.appendChild(el("li")), item[1]);
      } else if (!line.trim()) {
        list = null;
        para = null;
      } else {
        list = null;
        if (para) para.appendChild(document.createTextNode("\n"));
        else para = parent.appendChild(el("p", "lgw-para"));
        appendText(para, line);
      }
    });
  }

  function link(label, href, className) {
    var a = el("a", className, label);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.addEventListener("click", function () { reportClick(href); });
    return a;
  }

  function reportClick(href) {
    call("event", { event: "link_clicked", url: href }, { keepalive: true }).catch(function () {});
  }

  function removeQuickReplies() {
    var groups = log.querySelectorAll(".lgw-replies");
    var hadFocus = false;
    groups.forEach(function (group) {
      if (group.contains(root.activeElement)) hadFocus = true;
      group.remove();
    });
    if (hadFocus) input.focus();
  }

  function sourceLink(source) {
    var url = source && typeof source.section === "string" && source.section && articleUrl(source.url);
    if (!url) return null;
    var a = el("a", "lgw-source", "From the article: " + source.section);
    a.href = url.href;
    if (url.origin + url.pathname === location.origin + location.pathname) {
      // The article is this page: go to the section here; on a phone the panel steps aside.
      a.addEventListener("click", function () { if (fullScreen.matches) closePanel(true); });
    } else {
      a.target = "_blank";
      a.rel = "noopener noreferrer";
    }
    return a;
  }

  function feedbackControls(message) {
    var group = el("div", "lgw-feedback");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Was this answer helpful?");
    group.appendChild(el("span", "lgw-feedback-label", "Was this helpful?"));
    var note = el("span", "lgw-feedback-note");
    note.setAttribute("role", "status");
    var buttons = [[true, "Yes"], [false, "No"]].map(function (pair) {
      var b = el("button", "lgw-feedback-button", pair[1]);
      b.type = "button";
      b.setAttribute("aria-pressed", String(message.feedback === pair[0]));
      b.addEventListener("click", function () {
        buttons.forEach(function (other) { other.setAttribute("aria-pressed", String(other === b)); });
        note.textContent = "";
        call("event", { event: "feedback", utter_action: message.utter_action, timestamp: message.timestamp, helpful: pair[0] })
          .then(function () { note.textContent = "Thanks for your feedback."; })
          .catch(function () {
            b.setAttribute("aria-pressed", "false");
            note.textContent = "Your feedback wasn't sent. Try again.";
          });
      });
      group.appendChild(b);
      return b;
    });
    group.appendChild(note);
    return group;
  }

  function renderBot(message) {
    if (!message || typeof message !== "object") return;
    var item = el("div", "lgw-msg lgw-msg--bot");
    item.appendChild(srOnly(botName + ": "));
    if (message.kind === "safety") { safetyMode = true; setApplyUrl(null); }
    if (typeof message.text === "string" && message.text) {
      var bubble = el("div", "lgw-bubble");
      renderText(bubble, message.text);
      item.appendChild(bubble);
    }
    var source = sourceLink(message.source);
    if (source) item.appendChild(source);
    var buttons = Array.isArray(message.buttons) ? message.buttons : [];
    var replies = el("div", "lgw-replies");
    replies.setAttribute("role", "group");
    replies.setAttribute("aria-label", "Suggested replies");
    var links = el("div", "lgw-links");
    buttons.forEach(function (button) {
      if (!button || typeof button.title !== "string" || !button.title) return;
      if (button.url !== undefined) {
        // A link button: opens in a new tab, never posts its payload.
        var href = safeUrl(button.url);
        links.appendChild(href ? link(button.title, href, "lgw-link-button") : el("span", "lgw-link-blocked", button.title));
      } else if (typeof button.payload === "string" && button.payload) {
        var reply = el("button", "lgw-reply", button.title);
        reply.type = "button";
        reply.addEventListener("click", function () { submit(button.payload); });
        replies.appendChild(reply);
      }
    });
    if (links.childNodes.length) item.appendChild(links);
    if (replies.childNodes.length) item.appendChild(replies);
    if (item.childNodes.length < 2) return;
    if (message.kind === "answer" && typeof message.utter_action === "string" && typeof message.timestamp === "number") {
      item.appendChild(feedbackControls(message));
    }
    var meta = el("div", "lgw-meta");
    var last = log.lastElementChild;
    // One avatar per run of bot messages.
    if (!last || !last.classList.contains("lgw-msg--bot")) meta.appendChild(avatar());
    meta.appendChild(timeNode(message.timestamp));
    item.appendChild(meta);
    log.appendChild(item);
  }

  function renderVisitor(text, timestamp) {
    removeQuickReplies();
    var item = el("div", "lgw-msg lgw-msg--visitor");
    item.appendChild(srOnly("You: "));
    item.appendChild(el("p", "lgw-bubble", text));
    var meta = el("div", "lgw-meta");
    meta.appendChild(timeNode(timestamp));
    item.appendChild(meta);
    log.appendChild(item);
    return item;
  }

  function setState(entry, state) {
    entry.state = state;
    var item = entry.node;
    item.classList.toggle("lgw-msg--failed", state === "failed");
    var status = item.querySelector(".lgw-msg-status");
    if (status) status.remove();
    if (state === "failed") {
      status = el("div", "lgw-msg-status");
      status.appendChild(el("span", "", "Not sent. "));
      var resend = el("button", "lgw-resend", "Resend");
      resend.type = "button";
      resend.addEventListener("click", function () { retry(); input.focus(); });
      status.appendChild(resend);
      item.appendChild(status);
    } else if (state === "sending") {
      item.appendChild(el("div", "lgw-msg-status", "Sending\u2026"));
    }
  }

  function showAlert(text) {
    alertText.textContent = text;
    alertBox.hidden = false;
  }
  function hideAlert() {
    alertBox.hidden = true;
    alertText.textContent = "";
  }
  function setTyping(on) {
    typing.hidden = !on;
    if (on) scrollDown();
  }

  // ---- the conversation -------------------------------------------------------------------
  var loaded = false; // history shown (or greeting received) for this sender
  var loading = false;
  var busy = false;
  var queue = []; // {id, text, node, state: queued|sending|failed}
  var generation = 0; // bumped by "start over": late answers for the old sender are dropped

  function loadConversation() {
    if (loaded || loading) return;
    loading = true;
    var mine = generation;
    hideAlert();
    setTyping(true);
    call("history", {})
      .then(function (result) {
        setApplyUrl(result.application_url);
        var messages = Array.isArray(result.messages) ? result.messages : [];
        if (messages.length) return messages;
        return call("start", {}).then(function (greeting) {
          setApplyUrl(greeting.application_url);
          return (greeting.messages || []).map(function (m) { return Object.assign({ from: "bot" }, m); });
        });
      })
      .then(function (messages) {
        if (mine !== generation) return;
        var lastVisitor = null;
        messages.forEach(function (m) {
          if (m && m.from === "visitor" && typeof m.text === "string") { renderVisitor(m.text, m.timestamp); lastVisitor = m.text; }
          else renderBot(m);
        });
        restoreOutbox(lastVisitor);
        loaded = true;
        loading = false;
        setTyping(false);
        scrollToLatest();
        processQueue();
      })
      .catch(function (err) {
        if (mine !== generation) return;
        loading = false;
        setTyping(false);
        showAlert(problemText(err, false));
        queue.forEach(function (entry) { if (entry.state !== "failed") setState(entry, "failed"); });
      });
  }

  function restoreOutbox(lastVisitorText) {
    var items = readOutbox();
    // A message answered just before the page went away is already in the history.
    if (items.length && items[0].text === lastVisitorText) items.shift();
    writeOutbox(items);
    items.forEach(function (item) {
      if (queue.some(function (q) { return q.id === item.id; })) return;
      var entry = { id: item.id, text: item.text, node: renderVisitor(item.text) };
      queue.push(entry);
      setState(entry, "failed");
    });
    if (items.length) showAlert("Some of your messages were not sent yet. Resend them?");
  }

  function submit(text) {
    text = text.replace(/^\s+|\s+$/g, "");
    if (!text) return;
    var entry = { id: newSenderId().slice(0, 16), text: text.slice(0, MAX_CHARS) };
    entry.node = renderVisitor(entry.text);
    queue.push(entry);
    writeOutbox(readOutbox().concat([{ id: entry.id, text: entry.text }]));
    setState(entry, "queued");
    scrollDown();
    retry(); // resend earlier failures first: the order stays as typed
  }

  function retry() {
    hideAlert();
    queue.forEach(function (entry) { if (entry.state === "failed") setState(entry, "queued"); });
    if (!loaded) loadConversation();
    else processQueue();
  }

  function processQueue() {
    if (busy || !loaded) return;
    var entry = queue.filter(function (e) { return e.state === "queued"; })[0];
    if (!entry) return;
    busy = true;
    var mine = generation;
    setState(entry, "sending");
    setTyping(true);
    call("message", { message: entry.text })
      .then(function (result) {
        if (mine !== generation) return;
        busy = false;
        setState(entry, "sent");
        queue.splice(queue.indexOf(entry), 1);
        writeOutbox(readOutbox().filter(function (item) { return item.id !== entry.id; }));
        setTyping(false);
        (result.messages || []).forEach(renderBot);
        reveal(entry.node);
        processQueue();
      })
      .catch(function (err) {
        if (mine !== generation) return;
        busy = false;
        setTyping(false);
        queue.forEach(function (e) { if (e.state !== "sent") setState(e, "failed"); });
        showAlert(problemText(err, true));
        scrollDown();
      });
  }

  function askStartOver() {
    confirmBox.hidden = false;
    restart.setAttribute("aria-expanded", "true");
    confirmNo.focus();
  }
  function cancelStartOver(focusBack) {
    confirmBox.hidden = true;
    restart.setAttribute("aria-expanded", "false");
    if (focusBack) restart.focus();
  }

  function startOver() {
    cancelStartOver(false);
    generation += 1;
    safetyMode = false;
    writeOutbox([]);
    sender = newSenderId();
    save("localStorage", "sender", sender);
    queue = [];
    loaded = false;
    loading = false;
    busy = false;
    setTyping(false);
    while (log.firstChild) log.removeChild(log.firstChild);
    hideAlert();
    loadConversation();
    input.focus();
  }

  // ---- opening, closing, keyboard -------------------------------------------------------
  function openPanel(moveFocus) {
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    save("sessionStorage", "open", "1");
    fitViewport();
    loadConversation();
    if (moveFocus) {
      // On touch screens focusing the input would throw the keyboard over the greeting.
      if (window.matchMedia("(pointer: coarse)").matches) heading.focus();
      else input.focus();
    }
    scrollDown();
  }

  function closePanel(keepFocus) {
    cancelStartOver(false);
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    save("sessionStorage", "open", null);
    if (keepFocus !== true) launcher.focus();
  }

  launcher.addEventListener("click", function () { openPanel(true); });
  close.addEventListener("click", closePanel);
  restart.addEventListener("click", function () {
    if (confirmBox.hidden) askStartOver(); else cancelStartOver(true);
  });
  confirmYes.addEventListener("click", startOver);
  confirmNo.addEventListener("click", function () { cancelStartOver(true); });
  alertRetry.addEventListener("click", retry);

  // While the panel covers the screen (phones), Tab and Shift+Tab stay inside it.
  function focusables() {
    return Array.prototype.filter.call(
      panel.querySelectorAll("button, a[href], textarea, [tabindex='0']"),
      function (node) { return !node.disabled && node.getClientRects().length > 0; }
    );
  }
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      event.preventDefault();
      if (!confirmBox.hidden) cancelStartOver(true); else closePanel();
      return;
    }
    if (event.key !== "Tab" || !fullScreen.matches) return;
    var nodes = focusables();
    if (!nodes.length) return;
    var first = nodes[0];
    var last = nodes[nodes.length - 1];
    var active = root.activeElement;
    if (event.shiftKey && (active === first || active === heading || !panel.contains(active))) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (active === last || !panel.contains(active))) {
      event.preventDefault();
      first.focus();
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) { input.focus(); return; }
    input.value = "";
    save("localStorage", "draft", null);
    autosize();
    count();
    submit(text);
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit(send) : send.click();
    }
  });
  input.addEventListener("input", function () {
    save("localStorage", "draft", input.value || null);
    autosize();
    count();
  });
  var lastNote = 0;
  function count() {
    var used = input.value.length;
    counter.hidden = used < COUNT_FROM;
    counter.textContent = used.toLocaleString() + " / " + MAX_CHARS.toLocaleString() + " characters";
    counter.classList.toggle("lgw-counter--full", used >= MAX_CHARS);
    var step = used >= MAX_CHARS ? 3 : used >= MAX_CHARS - 100 ? 2 : used >= COUNT_FROM ? 1 : 0;
    if (step !== lastNote) {
      counterNote.textContent = step === 3 ? "Character limit reached: " + MAX_CHARS.toLocaleString() + "."
        : step ? (MAX_CHARS - used).toLocaleString() + " characters left." : "";
      lastNote = step;
    }
  }
  function autosize() {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 140) + "px";
  }

  // Phones: the full-screen panel follows the visual viewport, so the input stays above
  // the on-screen keyboard.
  // Phones upright (narrow) or on their side (short): the panel takes the whole screen.
  var fullScreen = window.matchMedia("(max-width: 480px), (max-height: 480px)");
  function fitViewport() {
    var vv = window.visualViewport;
    var full = fullScreen.matches && !panel.hidden;
    if (full) panel.setAttribute("aria-modal", "true");
    else panel.removeAttribute("aria-modal");
    var fit = vv && full;
    panel.style.height = fit ? vv.height + "px" : "";
    panel.style.width = fit ? vv.width + "px" : "";
    panel.style.top = fit ? vv.offsetTop + "px" : "";
    panel.style.left = fit ? vv.offsetLeft + "px" : "";
    if (fit) scrollDown();
  }
  if (window.visualViewport) {
    window.visualViewport.addEventListener("resize", fitViewport);
    window.visualViewport.addEventListener("scroll", fitViewport);
  }
  if (fullScreen.addEventListener) fullScreen.addEventListener("change", fitViewport);

  // ---- start -----------------------------------------------------------------------------
  function mount() {
    document.body.appendChild(host);
    input.value = load("localStorage", "draft") || "";
    count();
    if (openOnLoad || load("sessionStorage", "open") === "1") openPanel(false);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
