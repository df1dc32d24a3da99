// tide console: draws /console/api/state as the seed draws the architecture, charts
// GetMetricData (through /console/api/metrics) with Chart.js every second, marks scaling
// activities, alarm transitions and health changes on the time axis, and acts through
// /console/api/call. Plain JS, no build step (docs/console.md).
"use strict";

(function () {
  const WINDOW_SECONDS = 600; // what the charts show
  const POLL_MS = 1000; // state and metrics, once a second

  // ---------------------------------------------------------------------------- the token
  // From ?token= (then dropped from the address bar), else from this tab's storage. Reads also
  // work with the cookie the page set; actions need the header.
  const params = new URLSearchParams(window.location.search);
  let token = params.get("token") || window.sessionStorage.getItem("tide_token") || "";
  if (params.has("token")) {
    window.sessionStorage.setItem("tide_token", token);
    params.delete("token");
    const rest = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
  }
  function headers(extra) {
    const h = Object.assign({ "Content-Type": "application/json" }, extra || {});
    h["X-Tide-Token"] = token || "none";
    return h;
  }

  const $ = (id) => document.getElementById(id);
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else if (k.startsWith("data-")) e.setAttribute(k, v);
      else e[k] = v;
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return e;
  }

  // ------------------------------------------------------------------------- the server
  let clockOffset = 0; // server time - browser time, ms
  const serverNow = () => Date.now() + clockOffset;
  const toMs = (t) => (typeof t === "number" ? (t > 1e11 ? t : t * 1000) : Date.parse(t));

  async function getJson(path, init) {
    const r = await fetch(path, Object.assign({ credentials: "same-origin", cache: "no-store" }, init));
    const body = await r.json().catch(() => ({ __type: "InternalError", message: "not JSON" }));
    if (!r.ok) {
      const e = new Error(body.message || r.statusText);
      e.code = body.__type || String(r.status);
      e.status = r.status;
      throw e;
    }
    return body;
  }

  async function callAction(action, actionParams) {
    const out = $("action-result");
    out.textContent = action + "…";
    try {
      const body = await getJson("api/call", {
        method: "POST",
        headers: headers(),
        body: JSON.stringify({ Action: action, Params: actionParams || {} }),
      });
      out.textContent = action + ": done";
      refreshSoon();
      return body;
    } catch (e) {
      out.textContent = action + " failed: " + (e.code ? e.code + ": " : "") + e.message;
      return null;
    }
  }

  // ------------------------------------------------------------------------------ state
  let state = null;
  let lastStateAt = 0;
  const sizeHistory = new Map(); // group name → [{t, desired, inService}]
  const markers = new Map(); // key → {t, label, kind}
  const previousHealth = new Map(); // "tg|id" → state
  const previousAlarm = new Map(); // alarm name → state

  function addMarker(key, t, label, kind) {
    if (!markers.has(key) && Number.isFinite(t)) markers.set(key, { t: t, label: label, kind: kind });
  }

  function instanceView(s) {
    // Everything known about each instance, keyed by id.
    const byId = new Map();
    for (const i of s.Instances || []) byId.set(i.InstanceId, { ec2: i, targets: [] });
    for (const g of s.AutoScalingGroups || []) {
      for (const gi of g.Instances || []) {
        const v = byId.get(gi.InstanceId) || { ec2: null, targets: [] };
        v.group = g;
        v.asg = gi;
        byId.set(gi.InstanceId, v);
      }
    }
    for (const [tgArn, list] of Object.entries(s.TargetHealth || {})) {
      for (const d of list) {
        const id = d.Target && d.Target.Id;
        if (!id) continue;
        const v = byId.get(id) || { ec2: null, targets: [] };
        v.targets.push(Object.assign({ tgArn: tgArn }, d));
        byId.set(id, v);
      }
    }
    return byId;
  }

  // The one state a box is coloured by, and why.
  function boxState(v, now) {
    const ec2 = v.ec2 ? v.ec2.State.Name : "";
    const life = v.asg ? v.asg.LifecycleState : "";
    const reasonOf = () => {
      const t = v.targets.find((x) => x.TargetHealth && x.TargetHealth.State === "unhealthy");
      if (t) return (t.TargetHealth.Reason || "") + (t.TargetHealth.Description ? ": " + t.TargetHealth.Description : "");
      if (v.asg && v.asg.HealthStatus === "Unhealthy") return "Auto Scaling health: Unhealthy";
      if (v.ec2 && v.ec2.StateReason) return v.ec2.StateReason.Message || "";
      return "";
    };
    if (ec2 === "terminated") return { state: "terminated", reason: reasonOf() };
    if (ec2 === "shutting-down" || life.startsWith("Terminating")) return { state: "terminating", reason: reasonOf() };
    if (ec2 === "stopping" || ec2 === "stopped") return { state: "stopped", reason: reasonOf() };
    const health = v.targets.map((t) => t.TargetHealth && t.TargetHealth.State);
    if (health.includes("unhealthy") || (v.asg && v.asg.HealthStatus === "Unhealthy")) {
      return { state: "unhealthy", reason: reasonOf() };
    }
    if (health.includes("draining") || life === "Detaching") return { state: "draining", reason: "deregistering" };
    if (ec2 === "pending" || life.startsWith("Pending") || health.includes("initial")) {
      return { state: "pending", reason: health.includes("initial") ? "health checks starting" : life || ec2 };
    }
    if (life.startsWith("Warmed")) return { state: "pending", reason: "warm pool: " + life };
    if (v.group && v.ec2 && life === "InService") {
      const warmup = v.group.DefaultInstanceWarmup;
      if (warmup && now - toMs(v.ec2.LaunchTime) < warmup * 1000) return { state: "warming", reason: "warming up (" + warmup + " s)" };
    }
    return { state: "inservice", reason: life || ec2 };
  }

  function noteChanges(s) {
    for (const a of s.Activities || []) {
      addMarker("act|" + a.ActivityId, toMs(a.StartTime), "scaling: " + (a.Description || "") + " — " + (a.Cause || ""), "activity");
    }
    for (const al of s.Alarms || []) {
      const before = previousAlarm.get(al.AlarmName);
      // With the event stream on, its events mark transitions (with their reasons) instead.
      if (!events && before !== undefined && before !== al.StateValue) {
        addMarker("alarm|" + al.AlarmName + "|" + al.StateUpdatedTimestamp, toMs(al.StateUpdatedTimestamp) || serverNow(),
          "alarm " + al.AlarmName + ": " + before + " → " + al.StateValue + " — " + (al.StateReason || ""), "alarm");
      }
      previousAlarm.set(al.AlarmName, al.StateValue);
    }
    for (const [tgArn, list] of Object.entries(s.TargetHealth || {})) {
      for (const d of list) {
        const key = tgArn + "|" + d.Target.Id;
        const now = d.TargetHealth.State;
        const before = previousHealth.get(key);
        if (!events && before !== undefined && before !== now) {
          addMarker("health|" + key + "|" + s.Now, s.Now, "target " + d.Target.Id + ": " + before + " → " + now +
            (d.TargetHealth.Description ? " — " + d.TargetHealth.Description : ""), "health");
        }
        previousHealth.set(key, now);
      }
    }
    for (const g of s.AutoScalingGroups || []) {
      const list = sizeHistory.get(g.AutoScalingGroupName) || [];
      const inService = (g.Instances || []).filter((i) => i.LifecycleState === "InService").length;
      list.push({ t: s.Now, desired: g.DesiredCapacity, inService: inService });
      while (list.length && list[0].t < s.Now - WINDOW_SECONDS * 1000) list.shift();
      sizeHistory.set(g.AutoScalingGroupName, list);
    }
    for (const [key, m] of markers) if (m.t < serverNow() - WINDOW_SECONDS * 1000) markers.delete(key);
  }

  // ---------------------------------------------------------------------------- drawing
  // The newest value of a chart series (undefined before the first).
  function latest(id) {
    const m = series.get(id);
    if (!m || !m.size) return undefined;
    return m.get(Math.max(...m.keys()));
  }
  const fmt = (x, digits) => (x === undefined || x === null || !Number.isFinite(x) ? "–" : x.toFixed(digits));
  const shortArnName = (arn) => (arn || "").split("/").slice(-2, -1)[0] || arn;

  function instanceBox(id, v, now) {
    const b = boxState(v, now);
    const cpu = v.ec2 && typeof v.ec2.CPUUtilization === "number" ? v.ec2.CPUUtilization : null;
    const rps = state.RequestRates ? state.RequestRates[id] : undefined;
    const title = [id, "state: " + b.state, b.reason ? "why: " + b.reason : "",
      v.ec2 ? "EC2: " + v.ec2.State.Name : "", v.asg ? "lifecycle: " + v.asg.LifecycleState + ", health: " + v.asg.HealthStatus : "",
      v.asg && v.asg.ProtectedFromScaleIn ? "protected from scale-in" : "",
      v.targets.map((t) => "target " + shortArnName(t.tgArn) + ":" + t.Target.Port + " " + t.TargetHealth.State).join("\n"),
    ].filter(Boolean).join("\n");
    const live = v.ec2 && !["terminated", "shutting-down"].includes(v.ec2.State.Name);
    return el("div", { class: "instance s-" + b.state, title: title, "data-instance-id": id, "data-state": b.state },
      el("div", { class: "id", text: id + (v.asg && v.asg.ProtectedFromScaleIn ? " 🔒" : "") }),
      el("div", { class: "figures" }, el("span", { text: "CPU " + fmt(cpu, 0) + "%" }), el("span", { text: fmt(rps, 1) + " req/s" })),
      el("div", { class: "reason", text: b.state + (b.reason && b.reason !== b.state ? ": " + b.reason : "") }),
      live ? el("div", { class: "acts" },
        el("button", { type: "button", text: "terminate", title: "TerminateInstances " + id,
          onclick: () => callAction("TerminateInstances", { InstanceIds: [id] }) }),
        v.ec2.State.Name === "running" ? el("button", { type: "button", text: "stop", title: "StopInstances " + id,
          onclick: () => callAction("StopInstances", { InstanceIds: [id] }) }) : null,
        v.ec2.State.Name === "stopped" ? el("button", { type: "button", text: "start",
          onclick: () => callAction("StartInstances", { InstanceIds: [id] }) }) : null) : null);
  }

  function groupBox(g, views, now) {
    const form = el("form", {
      onsubmit: (ev) => {
        ev.preventDefault();
        const n = parseInt(form.querySelector("input").value, 10);
        form.querySelector("input").blur();
        if (Number.isFinite(n)) callAction("SetDesiredCapacity", { AutoScalingGroupName: g.AutoScalingGroupName, DesiredCapacity: n });
      },
    }, el("label", { text: "desired" }, el("input", { type: "number", min: g.MinSize, max: g.MaxSize, value: g.DesiredCapacity,
      "data-group": g.AutoScalingGroupName })), el("button", { type: "submit", text: "set" }));
    const lt = g.LaunchTemplate ? (g.LaunchTemplate.LaunchTemplateName || g.LaunchTemplate.LaunchTemplateId) : "";
    const box = el("div", { class: "group", "data-group": g.AutoScalingGroupName },
      el("h3", { text: "Auto Scaling group " + g.AutoScalingGroupName }),
      el("div", { class: "sizes", text: "min " + g.MinSize + " · desired " + g.DesiredCapacity + " · max " + g.MaxSize +
        (lt ? " · template " + lt : "") + (g.DefaultInstanceWarmup ? " · warm-up " + g.DefaultInstanceWarmup + " s" : "") }),
      form);
    const list = el("div", { class: "instances" });
    const ids = (g.Instances || []).map((i) => i.InstanceId);
    // Instances the group just let go of stay visible while they end.
    for (const [id, v] of views) {
      if (!ids.includes(id) && v.ec2 && v.ec2.Tags && v.ec2.Tags.some((t) => t.Key === "aws:autoscaling:groupName" && t.Value === g.AutoScalingGroupName) &&
        v.ec2.State.Name !== "terminated") ids.push(id);
    }
    for (const id of ids) list.appendChild(instanceBox(id, views.get(id) || { targets: [] }, now));
    box.appendChild(list);
    return box;
  }

  function drawDiagram() {
    const s = state;
    const now = s.Now;
    const views = instanceView(s);
    const d = $("diagram");
    // Not while a person types a desired capacity: the redraw would take the field away.
    if (d.contains(document.activeElement) && document.activeElement.tagName === "INPUT") return;
    const frag = document.createDocumentFragment();
    const drawnGroups = new Set();
    const drawnInstances = new Set();
    for (const g of s.AutoScalingGroups || []) for (const i of g.Instances || []) drawnInstances.add(i.InstanceId);
    const load = s.Load || {};
    frag.appendChild(el("div", { class: "node users" }, el("h3", { text: "Users" }),
      el("div", { class: "meta", text: (load.Running ? "load from the console: " + load.Profile + " → " + load.Target : "whoever calls the load balancers") +
        (latest("req") !== undefined ? " · " + fmt(latest("req"), 0) + " requests/s" : "") })));
    const tgByArn = new Map((s.TargetGroups || []).map((t) => [t.TargetGroupArn, t]));
    const tgDrawn = new Set();
    const tgBox = (tg) => {
      tgDrawn.add(tg.TargetGroupArn);
      const health = s.TargetHealth[tg.TargetGroupArn] || [];
      const healthy = health.filter((h) => h.TargetHealth.State === "healthy").length;
      const box = el("div", { class: "node tg" }, el("h3", { text: "Target group " + tg.TargetGroupName }),
        el("div", { class: "meta", text: (tg.Protocol || "HTTP") + ":" + tg.Port + " · health " + (tg.HealthCheckPath || "/") +
          " every " + tg.HealthCheckIntervalSeconds + " s · " + healthy + "/" + health.length + " healthy" }));
      for (const g of s.AutoScalingGroups || []) {
        if ((g.TargetGroupARNs || []).includes(tg.TargetGroupArn)) {
          box.appendChild(groupBox(g, views, now));
          drawnGroups.add(g.AutoScalingGroupName);
        }
      }
      const loose = health.map((h) => h.Target.Id).filter((id) => !drawnInstances.has(id));
      if (loose.length) {
        const list = el("div", { class: "instances" });
        for (const id of loose) list.appendChild(instanceBox(id, views.get(id) || { targets: [] }, now));
        box.appendChild(list);
      }
      return box;
    };
    for (const lb of s.LoadBalancers || []) {
      frag.appendChild(el("div", { class: "arrow", text: "↓" }));
      const lbBox = el("div", { class: "node lb" }, el("h3", { text: "Load balancer " + lb.LoadBalancerName }),
        el("div", { class: "meta", text: (lb.DNSName || "") + " · " + ((lb.State && lb.State.Code) || "") }));
      const ls = el("div", { class: "listeners" });
      const forwarded = [];
      for (const l of (s.Listeners || []).filter((x) => x.LoadBalancerArn === lb.LoadBalancerArn)) {
        const box = el("div", { class: "node listener" }, el("h3", { text: "Listener " + l.Protocol + ":" + l.Port }));
        const rules = (s.Rules[l.ListenerArn] || []).slice().sort((a, b) => (a.IsDefault ? 1 : 0) - (b.IsDefault ? 1 : 0) || Number(a.Priority) - Number(b.Priority));
        for (const r of rules) {
          const conds = (r.Conditions || []).map((c) => c.Field + " " + (c.Values || (c.PathPatternConfig && c.PathPatternConfig.Values) ||
            (c.HostHeaderConfig && c.HostHeaderConfig.Values) || []).join(",")).join(" & ");
          const acts = (r.Actions || []).map((a) => {
            const groups = a.TargetGroupArn ? [a.TargetGroupArn] : ((a.ForwardConfig && a.ForwardConfig.TargetGroups) || []).map((t) => t.TargetGroupArn);
            groups.forEach((g) => forwarded.push(g));
            return a.Type === "forward" ? "→ " + groups.map((g) => (tgByArn.get(g) || {}).TargetGroupName || shortArnName(g)).join(", ") : a.Type;
          }).join(" ");
          box.appendChild(el("div", { class: "rule", text: (r.IsDefault ? "default" : r.Priority + ": " + conds) + " " + acts }));
        }
        ls.appendChild(box);
      }
      lbBox.appendChild(ls);
      frag.appendChild(lbBox);
      const tgs = el("div", { class: "tgs" });
      for (const arn of [...new Set(forwarded)]) if (tgByArn.has(arn) && !tgDrawn.has(arn)) tgs.appendChild(tgBox(tgByArn.get(arn)));
      if (tgs.childNodes.length) {
        frag.appendChild(el("div", { class: "arrow", text: "↓" }));
        frag.appendChild(tgs);
      }
    }
    const rest = el("div", { class: "tgs" });
    for (const tg of s.TargetGroups || []) if (!tgDrawn.has(tg.TargetGroupArn)) rest.appendChild(tgBox(tg));
    for (const g of s.AutoScalingGroups || []) {
      if (!drawnGroups.has(g.AutoScalingGroupName)) rest.appendChild(el("div", { class: "node tg" }, groupBox(g, views, now)));
    }
    // Instances of no group and no target group (RunInstances by hand), while they live.
    const drawn = new Set();
    for (const box of frag.querySelectorAll(".instance")) drawn.add(box.dataset.instanceId);
    for (const box of rest.querySelectorAll(".instance")) drawn.add(box.dataset.instanceId);
    const loose = (s.Instances || []).filter((i) => i.State.Name !== "terminated" && !drawn.has(i.InstanceId) &&
      !(s.AutoScalingGroups || []).some((g) => (g.Instances || []).some((x) => x.InstanceId === i.InstanceId)));
    if (loose.length) {
      const list = el("div", { class: "instances" });
      for (const i of loose) list.appendChild(instanceBox(i.InstanceId, views.get(i.InstanceId), now));
      rest.appendChild(el("div", { class: "node tg" }, el("h3", { text: "Instances outside any group" }), list));
    }
    if (rest.childNodes.length) frag.appendChild(rest);
    d.replaceChildren(frag);
  }

  function drawTable(container, head, rows) {
    if (!rows.length) {
      container.replaceChildren(el("p", { class: "note", text: "none" }));
      return;
    }
    const table = el("table", {}, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", { text: h })))));
    const body = el("tbody");
    for (const r of rows) body.appendChild(el("tr", {}, ...r));
    table.appendChild(body);
    container.replaceChildren(table);
  }

  function drawAlarms() {
    const rows = (state.Alarms || []).map((a) => [
      el("td", { text: a.AlarmName, title: a.AlarmDescription || "" }),
      el("td", { class: "state-" + a.StateValue, text: a.StateValue, title: a.StateReason || "" }),
      el("td", { text: (a.Namespace || "") + " " + (a.MetricName || "") + " " + (a.Statistic || a.ExtendedStatistic || "") +
        " " + (a.ComparisonOperator || "") + " " + a.Threshold + " for " + a.EvaluationPeriods + " × " + a.Period + " s" }),
      el("td", {}, el("button", { type: "button", text: "ALARM", onclick: () => callAction("SetAlarmState",
        { AlarmName: a.AlarmName, StateValue: "ALARM", StateReason: "set from the tide console" }) }), " ",
      el("button", { type: "button", text: "OK", onclick: () => callAction("SetAlarmState",
        { AlarmName: a.AlarmName, StateValue: "OK", StateReason: "set from the tide console" }) })),
    ]);
    drawTable($("alarms"), ["alarm", "state", "condition", "set state"], rows);
  }

  function drawActivities() {
    const list = (state.Activities || []).slice().sort((a, b) => toMs(b.StartTime) - toMs(a.StartTime)).slice(0, 15);
    const rows = list.map((a) => [
      el("td", { text: new Date(toMs(a.StartTime)).toLocaleTimeString() }),
      el("td", { text: a.StatusCode }),
      el("td", { text: a.Description || "" }),
      el("td", { text: a.Cause || "" }),
    ]);
    drawTable($("activities"), ["started", "status", "what", "cause"], rows);
  }

  function fillSelect(select, values, labels) {
    const keep = select.value;
    const current = Array.from(select.options).map((o) => o.value).join("\n");
    if (current !== values.join("\n")) {
      select.replaceChildren(...values.map((v, i) => el("option", { value: v, text: labels ? labels[i] : v })));
      if (values.includes(keep)) select.value = keep;
    }
  }

  function drawControls() {
    const lbs = state.LoadBalancers || [];
    fillSelect($("chart-lb"), lbs.map((l) => l.LoadBalancerArn), lbs.map((l) => l.LoadBalancerName));
    fillSelect($("load-lb"), lbs.map((l) => l.LoadBalancerArn), lbs.map((l) => l.LoadBalancerName));
    const groups = (state.AutoScalingGroups || []).map((g) => g.AutoScalingGroupName);
    fillSelect($("chart-group"), groups);
    const presets = (state.Presets || []).map((p) => p.Name);
    fillSelect($("load-profile"), ["steady", "ramp", ...presets], ["steady rate", "ramp", ...presets.map((p) => "preset: " + p)]);
    const load = state.Load || {};
    $("load-status").textContent = load.Running
      ? "running " + load.Profile + " against " + load.Target + " (" + load.Url + ") — " + (load.LastLine || "starting")
      : load.Profile ? "last load: " + load.Profile + " " + (load.Exit || "") + (load.LastLine ? " — " + load.LastLine : "") : "no load running";
    $("load-stop").disabled = !load.Running;
    $("load-start").disabled = !!load.Running || !lbs.length;
    profileChanged();
  }

  function profileChanged() {
    const p = $("load-profile").value;
    const preset = (state && state.Presets || []).find((x) => x.Name === p);
    $("load-story").textContent = preset ? preset.Story + " (" + preset.Phases + ")" : p === "ramp" ? "a ramp from the first rate to the second" : "a constant rate";
    for (const e of document.querySelectorAll(".load-form .rate")) e.hidden = !!preset;
    $("load-rate-to").parentElement.hidden = p !== "ramp";
  }

  // ------------------------------------------------------------------------------ charts
  const charts = {};
  const palette = ["#2764c5", "#2e9e5b", "#e6a23c", "#d9453d", "#8a5a9e", "#0f9aa8", "#b5651d", "#5d6675", "#c2185b", "#7cb342"];
  const timeText = (s) => new Date(s * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });

  // Vertical lines at the markers (a Chart.js plugin; the points carry the hover text).
  const markerLines = {
    id: "tideMarkerLines",
    afterDatasetsDraw(chart) {
      const ds = chart.data.datasets.find((d) => d.tideMarkers);
      if (!ds) return;
      const x = chart.scales.x;
      const area = chart.chartArea;
      const ctx = chart.ctx;
      ctx.save();
      ctx.setLineDash([3, 3]);
      ctx.lineWidth = 1;
      for (const p of ds.data) {
        const px = x.getPixelForValue(p.x);
        if (px < area.left || px > area.right) continue;
        ctx.strokeStyle = p.color;
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
      }
      ctx.restore();
    },
  };

  function makeChart(id, yTitle, yMax) {
    const chart = new Chart($(id), {
      type: "line",
      data: { datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        spanGaps: 2,
        interaction: { mode: "nearest", intersect: false },
        elements: { point: { radius: 0 }, line: { borderWidth: 1.5, tension: 0 } },
        scales: {
          x: { type: "linear", ticks: { maxRotation: 0, autoSkipPadding: 16, callback: (v) => timeText(v) } },
          y: { beginAtZero: true, suggestedMax: yMax, title: { display: !!yTitle, text: yTitle },
            ticks: { precision: id === "chart-size" ? 0 : undefined } },
          m: { axis: "y", display: false, min: 0, max: 1 },
        },
        plugins: {
          legend: {
            labels: {
              boxWidth: 10,
              font: { size: 11 },
              // Markers explain themselves on hover; many instances' lines would fill the box.
              filter: (item, data) => {
                const ds = data.datasets[item.datasetIndex];
                return !ds.tideMarkers && !(ds.tideInstance && data.datasets.filter((d) => d.tideInstance).length > 4);
              },
            },
          },
          tooltip: {
            callbacks: {
              title: (items) => (items.length ? timeText(items[0].parsed.x) : ""),
              label: (item) => (item.dataset.tideMarkers ? item.raw.label : item.dataset.label + ": " + fmt(item.parsed.y, 2)),
            },
          },
        },
      },
      plugins: [markerLines],
    });
    charts[id] = chart;
    return chart;
  }

  // Series kept between fetches: id → Map(second → value).
  const series = new Map();
  let fetchedUntil = 0; // seconds

  function metricQueries() {
    const q = [];
    const lbArn = $("chart-lb").value;
    const group = $("chart-group").value;
    const lbDim = lbArn ? lbArn.split(":loadbalancer/")[1] : null;
    const stat = (id, ns, name, dims, st, label) =>
      q.push({ Id: id, Label: label, ReturnData: true, MetricStat: { Metric: { Namespace: ns, MetricName: name, Dimensions: dims }, Period: 1, Stat: st } });
    if (lbDim) {
      const d = [{ Name: "LoadBalancer", Value: lbDim }];
      stat("req", "AWS/ApplicationELB", "RequestCount", d, "Sum", "requests/s");
      stat("c2xx", "AWS/ApplicationELB", "HTTPCode_Target_2XX_Count", d, "Sum", "2XX");
      stat("c4xx", "AWS/ApplicationELB", "HTTPCode_Target_4XX_Count", d, "Sum", "4XX");
      stat("c5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", d, "Sum", "5XX");
      stat("elb5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", d, "Sum", "ELB 5XX");
      for (const p of ["p50", "p90", "p99"]) stat("rt" + p, "AWS/ApplicationELB", "TargetResponseTime", d, p, p);
    }
    if (group) {
      stat("cpuavg", "AWS/EC2", "CPUUtilization", [{ Name: "AutoScalingGroupName", Value: group }], "Average", "group average");
      const g = (state.AutoScalingGroups || []).find((x) => x.AutoScalingGroupName === group);
      const ids = new Set((g ? g.Instances || [] : []).map((i) => i.InstanceId));
      for (const i of state.Instances || []) {
        const tag = (i.Tags || []).find((t) => t.Key === "aws:autoscaling:groupName");
        if (tag && tag.Value === group && i.State.Name !== "terminated") ids.add(i.InstanceId);
      }
      // Every instance seen in this window keeps its line until it ages out.
      for (const id of series.keys()) if (id.startsWith("cpu_i_")) ids.add(id.slice(4).replace(/_/g, "-"));
      for (const id of [...ids].slice(0, 40)) stat("cpu_" + id.replace(/-/g, "_"), "AWS/EC2", "CPUUtilization", [{ Name: "InstanceId", Value: id }], "Average", id);
    }
    return q;
  }

  let chartKey = "";
  async function fetchMetrics() {
    if (!state) return;
    const key = $("chart-lb").value + "|" + $("chart-group").value;
    if (key !== chartKey) {
      series.clear();
      fetchedUntil = 0;
      chartKey = key;
    }
    const queries = metricQueries();
    if (!queries.length) return;
    const end = Math.floor(serverNow() / 1000) + 1;
    const start = Math.max(end - WINDOW_SECONDS, fetchedUntil ? fetchedUntil - 5 : 0);
    const out = await getJson("api/metrics", {
      method: "POST",
      headers: headers(),
      body: JSON.stringify({ MetricDataQueries: queries, StartTime: start, EndTime: end, ScanBy: "TimestampAscending" }),
    });
    const labels = new Map(queries.map((x) => [x.Id, x.Label]));
    for (const r of out.MetricDataResults || []) {
      const m = series.get(r.Id) || new Map();
      m.label = labels.get(r.Id) || r.Label;
      (r.Timestamps || []).forEach((t, i) => m.set(Math.round(toMs(t) / 1000), r.Values[i]));
      for (const t of m.keys()) if (t < end - WINDOW_SECONDS) m.delete(t);
      series.set(r.Id, m);
    }
    fetchedUntil = end;
    drawCharts(end);
  }

  const points = (id, scale) => {
    const m = series.get(id);
    if (!m) return [];
    return [...m.entries()].sort((a, b) => a[0] - b[0]).map(([x, y]) => ({ x: x, y: scale ? y * scale : y }));
  };
  const line = (label, data, color, extra) => Object.assign({ label: label, data: data, borderColor: color, backgroundColor: color }, extra || {});

  function markerDataset(from) {
    const colors = { activity: "#2764c5", alarm: "#d9453d", health: "#e6a23c", event: "#8a5a9e" };
    const data = [...markers.values()].filter((m) => m.t / 1000 >= from).map((m) => ({ x: m.t / 1000, y: 1, label: m.label, color: colors[m.kind] || "#5d6675" }));
    return {
      label: "events", tideMarkers: true, data: data, yAxisID: "m", showLine: false,
      pointStyle: "triangle", pointRadius: 5, pointHoverRadius: 7, borderColor: "#5d6675",
      backgroundColor: data.map((p) => p.color), pointBackgroundColor: data.map((p) => p.color),
    };
  }

  // The x axis starts at the first datapoint (at least a minute back), so that a page opened
  // on a young server does not squeeze its data into the right edge.
  function setData(chart, datasets, from, to) {
    let first = to - 60;
    for (const d of datasets) if (!d.tideMarkers && !d.tideThreshold && d.data.length) first = Math.min(first, d.data[0].x);
    from = Math.max(from, first);
    // A threshold is a horizontal line across what is shown: from the axis' own start, so that
    // no point of it lies outside the axis (and it spans the gap between its two points, which
    // the series' spanGaps of 2 s would leave open).
    for (const d of datasets) if (d.tideThreshold && d.data.length) d.data[0].x = from;
    chart.data.datasets = datasets;
    chart.options.scales.x.min = from;
    chart.options.scales.x.max = to;
    chart.update("none");
  }

  function drawCharts(end) {
    const from = end - WINDOW_SECONDS;
    const marks = markerDataset(from);
    setData(charts["chart-requests"], [
      line("requests/s", points("req"), palette[0]),
      line("2XX", points("c2xx"), palette[1]),
      line("4XX", points("c4xx"), palette[2]),
      line("5XX", points("c5xx"), palette[3]),
      line("ELB 5XX", points("elb5xx"), palette[4]),
      marks,
    ], from, end);
    setData(charts["chart-latency"], [
      line("p50", points("rtp50", 1000), palette[1]),
      line("p90", points("rtp90", 1000), palette[2]),
      line("p99", points("rtp99", 1000), palette[3]),
      markerDataset(from),
    ], from, end);
    const cpu = [line("group average", points("cpuavg"), "#1d2330", { borderWidth: 3 })];
    let k = 0;
    for (const id of series.keys()) {
      if (id.startsWith("cpu_i_")) cpu.push(line(series.get(id).label, points(id), palette[k++ % palette.length], { tideInstance: true }));
    }
    const group = $("chart-group").value;
    for (const a of state.Alarms || []) {
      const onGroup = (a.Dimensions || []).some((d) => d.Name === "AutoScalingGroupName" && d.Value === group);
      if (a.MetricName === "CPUUtilization" && onGroup) {
        cpu.push(line(a.AlarmName.length > 30 ? a.AlarmName.slice(0, 30) + "…" : a.AlarmName,
          [{ x: from, y: a.Threshold }, { x: end, y: a.Threshold }], a.StateValue === "ALARM" ? "#d9453d" : "#9aa5b8", { borderDash: [6, 4], tideThreshold: true, spanGaps: true }));
      }
    }
    cpu.push(markerDataset(from));
    setData(charts["chart-cpu"], cpu, from, end);
    const sizes = (sizeHistory.get(group) || []).filter((p) => p.t / 1000 >= from);
    setData(charts["chart-size"], [
      line("desired", sizes.map((p) => ({ x: p.t / 1000, y: p.desired })), palette[0], { stepped: true }),
      line("in service", sizes.map((p) => ({ x: p.t / 1000, y: p.inService })), palette[1], { stepped: true }),
      markerDataset(from),
    ], from, end);
  }

  // ------------------------------------------------------------------------ the event stream
  let events = null;
  // The detail-types of tide's event stream (docs/events.md) and what each says on hover.
  const EVENT_TYPES = ["EC2 Instance State-change Notification", "EC2 Instance Launch Successful",
    "EC2 Instance Launch Unsuccessful", "EC2 Instance Terminate Successful", "EC2 Instance Terminate Unsuccessful",
    "EC2 Instance-launch Lifecycle Action", "EC2 Instance-terminate Lifecycle Action", "CloudWatch Alarm State Change",
    "ELB Target Health State Change", "Auto Scaling Desired Capacity Change"];
  function describeEvent(type, d) {
    const stateOf = (x) => (x && typeof x === "object" ? x.value : x);
    if (d["instance-id"]) return d["instance-id"] + " → " + d.state;
    if (d.alarmName) {
      return d.alarmName + ": " + (stateOf(d.previousState) || "?") + " → " + stateOf(d.state) +
        (d.state && d.state.reason ? " — " + d.state.reason : "");
    }
    if (d.target) {
      return "target " + d.target.id + ":" + d.target.port + " " + (d.previousState || "new") + " → " + d.state +
        (d.description || d.reason ? " — " + (d.description || d.reason) : "");
    }
    if (d.LifecycleTransition) return d.EC2InstanceId + " " + d.LifecycleTransition + " (hook " + d.LifecycleHookName + ")";
    if (d.DesiredCapacity !== undefined) {
      return d.AutoScalingGroupName + " desired " + d.PreviousDesiredCapacity + " → " + d.DesiredCapacity;
    }
    if (d.EC2InstanceId) return d.EC2InstanceId + ": " + (d.Description || "") + (d.Cause ? " — " + d.Cause : "");
    return type;
  }
  function openEvents(path) {
    if (events || !path || typeof EventSource === "undefined") return;
    events = new EventSource(path + "?replay=200" + (token ? "&token=" + encodeURIComponent(token) : ""));
    const onEvent = (ev) => {
      let e = null;
      try { e = JSON.parse(ev.data); } catch (err) { return; }
      const type = e["detail-type"] || ev.type;
      const kind = type.startsWith("CloudWatch") ? "alarm" : type.startsWith("ELB") ? "health" : "event";
      addMarker("ev|" + (ev.lastEventId || e.id), toMs(e.time) || serverNow(), type + ": " + describeEvent(type, e.detail || {}), kind);
      refreshSoon();
    };
    for (const t of EVENT_TYPES) events.addEventListener(t, onEvent);
    events.onmessage = onEvent;
    // A server without the stream (404) closes it for good: the page keeps polling.
    events.onerror = () => { if (events && events.readyState === EventSource.CLOSED) events = null; };
  }

  // --------------------------------------------------------------------------- the loop
  let refreshing = false;
  let again = false;
  async function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      const s = await getJson("api/state", { headers: token ? { Authorization: "Bearer " + token } : {} });
      clockOffset = s.Now - Date.now();
      state = s;
      lastStateAt = Date.now();
      $("denied").hidden = true;
      noteChanges(s);
      drawControls();
      drawDiagram();
      drawAlarms();
      drawActivities();
      openEvents(s.EventStream);
      await fetchMetrics();
      $("status").textContent = "live · " + new Date(serverNow()).toLocaleTimeString() + (events ? " · events" : "");
    } catch (e) {
      if (e.status === 403) $("denied").hidden = false;
      $("status").textContent = "not updated since " + (lastStateAt ? new Date(lastStateAt).toLocaleTimeString() : "the start") + ": " + e.message;
    } finally {
      refreshing = false;
      if (again) { again = false; refreshSoon(); }
    }
  }
  let soon = null;
  function refreshSoon() {
    if (soon) return;
    soon = setTimeout(() => { soon = null; refresh(); }, 50);
  }

  function startLoad(ev) {
    ev.preventDefault();
    const p = $("load-profile").value;
    const rate = $("load-rate").value;
    const to = $("load-rate-to").value;
    const duration = $("load-duration").value.trim() || "2m";
    const profile = p === "steady" ? "steady:" + rate + ":" + duration : p === "ramp" ? "ramp:" + rate + "-" + to + ":" + duration : p;
    const path = $("load-path").value.trim() || "/";
    callAction("StartLoad", { LoadBalancerArn: $("load-lb").value, Profile: profile, Path: path });
  }

  function start() {
    for (const [id, title, max] of [["chart-requests", "per second"], ["chart-latency", "ms"], ["chart-cpu", "%", 100], ["chart-size", "instances", 2]]) {
      makeChart(id, title, max);
    }
    $("window-minutes").textContent = String(WINDOW_SECONDS / 60);
    $("load-form").addEventListener("submit", startLoad);
    $("load-stop").addEventListener("click", () => callAction("StopLoad", {}));
    $("load-profile").addEventListener("change", profileChanged);
    $("chart-lb").addEventListener("change", refreshSoon);
    $("chart-group").addEventListener("change", refreshSoon);
    refresh();
    setInterval(refresh, POLL_MS);
  }

  // For tests and the curious: what the page holds.
  window.tideConsole = {
    state: () => state,
    chartPoints: (id) => (charts[id] ? charts[id].data.datasets.filter((d) => !d.tideMarkers).reduce((n, d) => n + d.data.length, 0) : 0),
    markers: () => [...markers.values()],
  };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
