(function () {
  "use strict";
  var COLORS = {
    win_win: "#2f9e44", buyer_loses: "#d9822b", seller_loses: "#1c6fb8", lose_lose: "#c92a2a"
  };
  var BACKGROUNDS = {
    win_win: "rgba(47,158,68,.07)", buyer_loses: "rgba(194,109,0,.07)",
    seller_loses: "rgba(28,111,184,.07)", lose_lose: "rgba(201,42,42,.07)"
  };
  var LABELS = {
    win_win: "Win-win", buyer_loses: "Buyer loses", seller_loses: "Seller loses", lose_lose: "Lose-lose"
  };
  var ORDER = ["win_win", "buyer_loses", "seller_loses", "lose_lose"];

  function money(value) {
    var n = Number(value) || 0, abs = Math.abs(n);
    if (abs >= 1e9) return (n / 1e9).toFixed(1) + "B";
    if (abs >= 1e6) return (n / 1e6).toFixed(1) + "M";
    if (abs >= 1e3) return (n / 1e3).toFixed(1) + "k";
    return n.toFixed(0);
  }

  function balanceOf(buyer, seller, threshold) {
    if (buyer >= threshold && seller >= threshold) return "win_win";
    if (seller >= threshold) return "buyer_loses";
    if (buyer >= threshold) return "seller_loses";
    return "lose_lose";
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); });
  }

  // Tinted quadrants, dashed win-win lines and corner labels, drawn under the points.
  var quadrantPlugin = {
    id: "quadrants",
    beforeDatasetsDraw: function (chart, args, opts) {
      var ctx = chart.ctx, a = chart.chartArea, x = chart.scales.x, y = chart.scales.y;
      var tx = x.getPixelForValue(opts.threshold), ty = y.getPixelForValue(opts.threshold);
      ctx.save();
      function box(key, x0, y0, x1, y1) { ctx.fillStyle = BACKGROUNDS[key]; ctx.fillRect(x0, y0, x1 - x0, y1 - y0); }
      box("buyer_loses", a.left, a.top, tx, ty);
      box("win_win", tx, a.top, a.right, ty);
      box("lose_lose", a.left, ty, tx, a.bottom);
      box("seller_loses", tx, ty, a.right, a.bottom);
      ctx.setLineDash([5, 4]); ctx.strokeStyle = "#98a2b3"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(tx, a.top); ctx.lineTo(tx, a.bottom);
      ctx.moveTo(a.left, ty); ctx.lineTo(a.right, ty); ctx.stroke();
      ctx.setLineDash([]);
      ctx.font = "600 11px -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, sans-serif";
      function label(key, px, py, align, base) {
        ctx.fillStyle = COLORS[key]; ctx.textAlign = align; ctx.textBaseline = base;
        ctx.fillText(LABELS[key].toUpperCase(), px, py);
      }
      label("buyer_loses", a.left + 8, a.top + 6, "left", "top");
      label("win_win", a.right - 8, a.top + 6, "right", "top");
      label("lose_lose", a.left + 8, a.bottom - 6, "left", "bottom");
      label("seller_loses", a.right - 8, a.bottom - 6, "right", "bottom");
      ctx.restore();
    }
  };

  // The count on a cluster bubble, drawn over the points.
  var clusterLabels = {
    id: "clusterLabels",
    afterDatasetsDraw: function (chart) {
      var ctx = chart.ctx;
      ctx.save();
      ctx.font = "700 11px -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, sans-serif";
      ctx.textAlign = "center"; ctx.textBaseline = "middle"; ctx.fillStyle = "#fff";
      chart.data.datasets.forEach(function (ds, i) {
        chart.getDatasetMeta(i).data.forEach(function (el, j) {
          var raw = ds.data[j];
          if (raw && raw.deals) ctx.fillText(String(raw.deals.length), el.x, el.y);
        });
      });
      ctx.restore();
    }
  };

  function esc(text) {
    var div = document.createElement("div"); div.textContent = text == null ? "" : String(text); return div.innerHTML;
  }

  function showCluster(raw) {
    var box = document.getElementById("quadrant-cluster");
    if (!box) return;
    box.innerHTML = "<h3>" + raw.deals.length + " deals at buyer " + raw.x + ", seller " + raw.y +
      ' <button type="button" class="btn small link" data-close-cluster>Close</button></h3><ul class="plain-list">' +
      raw.deals.map(function (d) {
        return '<li><a href="' + esc(d.url) + '">' + esc(d.title) + "</a> <span class=\"muted small\">" + money(d.net_total) + " net</span></li>";
      }).join("") + "</ul>";
    box.hidden = false;
    box.focus();
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-close-cluster]")) document.getElementById("quadrant-cluster").hidden = true;
  });

  // Every chart also as a table, for keyboards and screen readers.
  function table(id, caption, heads, rows) {
    var box = document.getElementById(id);
    if (!box) return;
    box.innerHTML = '<div class="table-wrap"><table class="compact-table"><caption class="visually-hidden">' + esc(caption) +
      "</caption><thead><tr>" + heads.map(function (h, i) { return '<th scope="col"' + (i ? ' class="num"' : "") + ">" + esc(h) + "</th>"; }).join("") +
      "</tr></thead><tbody>" + rows.map(function (r) {
        return "<tr>" + r.map(function (c, i) { return i ? '<td class="num">' + c + "</td>" : "<td>" + c + "</td>"; }).join("") + "</tr>";
      }).join("") + "</tbody></table></div>";
  }

  function quadrantTable(data) {
    if (data.mode === "points") {
      var points = data.points.slice().sort(function (a, b) { return (a.buyer_score + a.seller_score) - (b.buyer_score + b.seller_score); });
      table("quadrant-table", "Deals by buyer and seller score", ["Deal", "Balance", "Buyer score", "Seller score", "Net value"],
        points.map(function (p) {
          var key = p.balance || balanceOf(p.buyer_score, p.seller_score, data.threshold);
          return ['<a href="' + esc(p.url) + '">' + esc(p.title) + "</a>", esc(LABELS[key]), p.buyer_score, p.seller_score, money(p.net_total)];
        }));
    } else {
      table("quadrant-table", "Deals per score cell", ["Buyer score", "Seller score", "Deals", "Net value"],
        data.cells.map(function (c) {
          return [c.buyer_min + "–" + (c.buyer_min + data.cell_size), c.seller_min + "–" + (c.seller_min + data.cell_size), c.count, money(c.net_total)];
        }));
    }
  }

  function trendsTable(data, labels) {
    table("trends-table", "Win-win share and open pressure flags per week", ["Week starting", "Win-win share", "Win-win deals", "Deals", "Open pressure flags"],
      data.weeks.map(function (w, i) {
        return [esc(labels[i]), w.win_win_share === null ? "—" : w.win_win_share + " %", w.win_win_deals == null ? "—" : w.win_win_deals,
          w.deals == null ? "—" : w.deals, w.pressure_flags === null ? "—" : w.pressure_flags];
      }));
  }

  function renderQuadrant(canvas, data) {
    var threshold = data.threshold;
    var groups = {}; ORDER.forEach(function (k) { groups[k] = []; });
    var caption = document.getElementById("quadrant-caption");
    if (data.mode === "points") {
      var maxNet = Math.max.apply(null, data.points.map(function (p) { return Number(p.net_total) || 0; }).concat([1]));
      // Deals on the same spot (many sit at 100/100) become one bubble with a count that
      // opens the list of them, instead of hiding one another.
      var spots = {};
      data.points.forEach(function (p) {
        var key = p.buyer_score + "/" + p.seller_score;
        (spots[key] = spots[key] || []).push(p);
      });
      Object.keys(spots).forEach(function (key) {
        var deals = spots[key], p = deals[0];
        var net = deals.reduce(function (sum, d) { return sum + (Number(d.net_total) || 0); }, 0);
        var group = p.balance || balanceOf(p.buyer_score, p.seller_score, threshold);
        groups[group].push({
          x: p.buyer_score, y: p.seller_score,
          r: deals.length > 1 ? Math.min(11 + 3 * Math.sqrt(deals.length), 22) : 4 + 14 * Math.sqrt(Math.max(net, 0) / maxNet),
          id: p.id, title: p.title, net: net, url: deals.length > 1 ? null : p.url,
          deals: deals.length > 1 ? deals : null
        });
      });
      caption.textContent = data.total + " deal" + (data.total === 1 ? "" : "s");
    } else {
      var maxCount = Math.max.apply(null, data.cells.map(function (c) { return c.count; }).concat([1]));
      var half = data.cell_size / 2;
      data.cells.forEach(function (c) {
        var x = c.buyer_min + half, y = c.seller_min + half;
        groups[balanceOf(x, y, threshold)].push({
          x: x, y: y, r: 3 + 17 * Math.sqrt(c.count / maxCount), count: c.count, net: c.net_total,
          cell: [c.buyer_min, c.seller_min, data.cell_size]
        });
      });
      caption.textContent = data.total.toLocaleString() + " deals · density grid";
    }
    quadrantTable(data);
    var datasets = ORDER.map(function (key) {
      return {
        label: LABELS[key], data: groups[key], clip: false,
        backgroundColor: COLORS[key] + "99", borderColor: COLORS[key], borderWidth: 1,
        hoverBackgroundColor: COLORS[key], hoverBorderWidth: 2
      };
    });
    return new Chart(canvas, {
      type: "bubble",
      data: { datasets: datasets },
      plugins: [quadrantPlugin, clusterLabels],
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        // Room for a full bubble at 100 and at 0: points at the edges are not cut off.
        layout: { padding: { top: 24, right: 24, left: 4, bottom: 4 } },
        scales: {
          x: { min: 0, max: 100, title: { display: true, text: "Buyer score →" }, ticks: { stepSize: 10 }, grid: { color: "#eef0f4" } },
          y: { min: 0, max: 100, title: { display: true, text: "Seller score →" }, ticks: { stepSize: 10 }, grid: { color: "#eef0f4" } }
        },
        plugins: {
          quadrants: { threshold: threshold },
          legend: { position: "bottom", labels: { usePointStyle: true, boxWidth: 8 } },
          tooltip: {
            callbacks: {
              label: function (item) {
                var p = item.raw;
                if (p.cell) {
                  return p.count + " deals · buyer " + p.cell[0] + "–" + (p.cell[0] + p.cell[2]) +
                    ", seller " + p.cell[1] + "–" + (p.cell[1] + p.cell[2]) + " · " + money(p.net) + " net";
                }
                if (p.deals) return p.deals.length + " deals at buyer " + p.x + ", seller " + p.y + " · " + money(p.net) + " net · click for the list";
                return p.title + " · buyer " + p.x + ", seller " + p.y + " · " + money(p.net) + " net";
              }
            }
          }
        },
        onHover: function (evt, elements, chart) {
          var raw = elements.length && chartRaw(chart, elements[0]);
          var hit = raw && (raw.url || raw.deals);
          evt.native.target.style.cursor = hit ? "pointer" : "default";
        },
        onClick: function (evt, elements, chart) {
          if (!elements.length) return;
          var raw = chartRaw(chart, elements[0]);
          if (raw && raw.deals) showCluster(raw);
          else if (raw && raw.url) window.location.href = raw.url;
        }
      }
    });
  }

  function chartRaw(chart, element) {
    return chart.data.datasets[element.datasetIndex].data[element.index];
  }

  function renderTrends(canvas, data) {
    var weeks = data.weeks;
    var labels = weeks.map(function (w) {
      var d = new Date(w.week_start + "T00:00:00");
      return d.toLocaleDateString(undefined, { day: "numeric", month: "short" });
    });
    trendsTable(data, labels);
    return new Chart(canvas, {
      data: {
        labels: labels,
        datasets: [
          {
            type: "line", label: "Win-win share", yAxisID: "share",
            data: weeks.map(function (w) { return w.win_win_share; }),
            borderColor: COLORS.win_win, backgroundColor: "rgba(47,158,68,.12)", fill: true,
            tension: 0.3, pointRadius: 3, borderWidth: 2.5, spanGaps: true, order: 1
          },
          {
            type: "bar", label: "Open pressure flags", yAxisID: "flags",
            data: weeks.map(function (w) { return w.pressure_flags; }),
            backgroundColor: "rgba(201,42,42,.28)", hoverBackgroundColor: "rgba(201,42,42,.5)", borderRadius: 3, maxBarThickness: 22, order: 2
          }
        ]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          share: { position: "left", min: 0, max: 100, title: { display: true, text: "Win-win share of deals" }, ticks: { callback: function (v) { return v + "%"; } }, grid: { color: "#eef0f4" } },
          flags: { position: "right", beginAtZero: true, title: { display: true, text: "Open pressure flags" }, grid: { display: false }, ticks: { precision: 0 } },
          x: { title: { display: true, text: "Week starting" }, grid: { display: false } }
        },
        plugins: {
          legend: { position: "bottom", labels: { usePointStyle: true, boxWidth: 8 } },
          tooltip: {
            callbacks: {
              label: function (item) {
                var w = weeks[item.dataIndex];
                if (item.dataset.yAxisID === "share") {
                  return w.win_win_share === null ? "No data" :
                    "Win-win " + w.win_win_share + "% (" + w.win_win_deals + " of " + w.deals + ")";
                }
                return "Pressure flags " + (w.pressure_flags === null ? "—" : w.pressure_flags);
              }
            }
          }
        }
      }
    });
  }

  function load(id, render) {
    var canvas = document.getElementById(id);
    if (!canvas || typeof Chart === "undefined") return;
    getJSON(canvas.dataset.url).then(function (data) {
      window.dashboardCharts[id] = render(canvas, data);
      canvas.dataset.rendered = "true";
    }).catch(function (err) {
      canvas.dataset.rendered = "error";
      canvas.parentNode.insertAdjacentHTML("beforeend", '<p class="empty">Could not load the chart (' + err.message + ").</p>");
    });
  }

  window.dashboardCharts = {};
  Chart.defaults.font.family = "-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
  Chart.defaults.color = "#5a6677";
  load("quadrant-chart", renderQuadrant);
  load("trends-chart", renderTrends);
})();
