/* Behaviour of the planner's map.html (rural charging planner, MIT). Needs Leaflet.
 *
 * Overlays arrive as GeoJSON with display properties per feature:
 *   t  tooltip text,  p  popup {title, id, v: values of the layer's row labels, xy},
 *   s  style.
 * Every text is put in the page with textContent, never parsed as HTML; the texts come
 * in the report's language. On a basemap whose options say plannerGcj, every overlay
 * is drawn shifted to GCJ-02 (display only: the data stay WGS84).
 * The page's own controls (map_ui.js): township names, legend, search, layer control.
 */
var plannerMap = (function () {
  "use strict";
  var state = {
    map: null, overlays: {}, specs: {}, order: [], gcj: false, notice: null,
    texts: {}, labels: null, small: false
  };

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function row(table, label, value) {
    var tr = el("tr");
    tr.appendChild(el("th", label));
    tr.appendChild(el("td", value));
    table.appendChild(tr);
  }

  /** WGS84 [lon, lat] of a feature's popup: its own point, or the popup's xy. */
  function where(f) {
    if (f.properties.p && f.properties.p.xy) return f.properties.p.xy;
    return f.geometry && f.geometry.type === "Point" ? f.geometry.coordinates : null;
  }

  /** The popup's kind, row labels and coordinates label: the spec's, or those of the
   *  set ``p.r`` of ``spec.sets`` (an overlay of features of two kinds). */
  function rowSet(spec, p) {
    return p.r !== undefined && spec.sets ? spec.sets[p.r] : spec;
  }

  function popupContent(f, spec) {
    var p = f.properties.p, box = el("div", null, "pl-popup"), sub = rowSet(spec, p);
    box.appendChild(el("div", p.title, "pl-popup-title"));
    if (sub.kind) box.appendChild(el("div", sub.kind, "pl-popup-kind"));
    var table = el("table");
    (sub.rows || []).forEach(function (label, i) { row(table, label, p.v[i]); });
    var xy = where(f);
    if (sub.coords && xy) row(table, sub.coords, xy[0].toFixed(6) + ", " + xy[1].toFixed(6));
    box.appendChild(table);
    return box;
  }

  // GCJ-02 forward offset: the same published formula as planner/ingest/china.py
  var A = 6378245.0, EE = 0.00669342162296594323;

  function gcj02(lon, lat) {
    if (!(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271)) {
      return [lon, lat];
    }
    var x = lon - 105.0, y = lat - 35.0, s = Math.sin, pi = Math.PI;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    dlat += (20.0 * s(6.0 * x * pi) + 20.0 * s(2.0 * x * pi)) * 2.0 / 3.0;
    dlat += (20.0 * s(y * pi) + 40.0 * s(y / 3.0 * pi)) * 2.0 / 3.0;
    dlat += (160.0 * s(y / 12.0 * pi) + 320.0 * s(y * pi / 30.0)) * 2.0 / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dlon += (20.0 * s(6.0 * x * pi) + 20.0 * s(2.0 * x * pi)) * 2.0 / 3.0;
    dlon += (20.0 * s(x * pi) + 40.0 * s(x / 3.0 * pi)) * 2.0 / 3.0;
    dlon += (150.0 * s(x / 12.0 * pi) + 300.0 * s(x / 30.0 * pi)) * 2.0 / 3.0;
    var rad = lat * (pi / 180.0);
    var magic = 1.0 - EE * Math.pow(Math.sin(rad), 2);
    var root = Math.sqrt(magic);
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * root) * pi);
    dlon = (dlon * 180.0) / (A / root * Math.cos(rad) * pi);
    return [lon + dlon, lat + dlat];
  }

  function shifted(latlngs, on) {
    if (Array.isArray(latlngs)) {
      return latlngs.map(function (item) { return shifted(item, on); });
    }
    if (!on) return latlngs;
    var g = gcj02(latlngs.lng, latlngs.lat);
    return L.latLng(g[1], g[0]);
  }

  function shift(group, on) {
    group.eachLayer(function (layer) {
      if (layer.getLatLng) {
        if (!layer._plWgs) layer._plWgs = layer.getLatLng();
        layer.setLatLng(shifted(layer._plWgs, on));
      } else if (layer.getLatLngs) {
        if (!layer._plWgs) layer._plWgs = layer.getLatLngs();
        layer.setLatLngs(shifted(layer._plWgs, on));
      } else if (layer.eachLayer) {
        shift(layer, on);
      }
    });
  }

  function setGcj(on) {
    if (on === state.gcj) return;
    state.gcj = on;
    state.order.forEach(function (key) { shift(state.overlays[key], on); });
    if (state.labels) shift(state.labels.group, on);
    if (state.notice) state.notice.style.display = on ? "" : "none";
  }

  /** A WGS84 [lon, lat] where it is drawn now (shifted on a GCJ-02 basemap). */
  function drawnAt(xy) {
    return shifted(L.latLng(xy[1], xy[0]), state.gcj);
  }

  /** A stop of a tour: its number ``props.n`` in a circle of colour ``props.c``. */
  function numbered(props, latlng) {
    var label = el("span", props.n);
    label.style.background = props.c;
    return L.marker(latlng, {
      icon: L.divIcon({ className: "pl-stop", html: label, iconSize: [18, 18] }),
      keyboard: false
    });
  }

  function marker(spec, style, latlng, props) {
    if (props && props.n !== undefined) return numbered(props, latlng);
    if (spec.marker === "diamond") {
      var size = 2 * style.radius;
      var shape = el("div", null, "pl-diamond-shape");
      shape.style.background = style.fillColor;
      shape.style.borderColor = style.color;
      return L.marker(latlng, {
        icon: L.divIcon({ className: "pl-diamond " + spec.cls, html: shape, iconSize: [size, size] }),
        keyboard: false
      });
    }
    return L.circleMarker(latlng, style);
  }

  function control(position, node) {
    var Control = L.Control.extend({
      onAdd: function () {
        L.DomEvent.disableClickPropagation(node);
        L.DomEvent.disableScrollPropagation(node);
        return node;
      }
    });
    return new Control({ position: position }).addTo(state.map);
  }

  /** Register the map: texts, title, metric scale, GCJ-02 notice, basemap switches. */
  function init(map, options) {
    state.map = map;
    state.texts = options.texts || {};
    state.small = map.getSize().x < (options.small || 800);
    map.on("baselayerchange", function (e) { setGcj(!!e.layer.options.plannerGcj); });
    if (map.zoomControl) {
      map.zoomControl._zoomInButton.title = state.texts.zoomIn || "Zoom in";
      map.zoomControl._zoomOutButton.title = state.texts.zoomOut || "Zoom out";
      map.zoomControl._zoomInButton.setAttribute("aria-label", map.zoomControl._zoomInButton.title);
      map.zoomControl._zoomOutButton.setAttribute("aria-label", map.zoomControl._zoomOutButton.title);
    }
    var credit = map.attributionControl;
    if (credit && typeof credit.options.prefix === "string") {
      // Leaflet's own credit stays; its English hover text goes
      credit.setPrefix(credit.options.prefix.replace(/ title="[^"]*"/, ""));
    }
    if (credit && options.credit) {
      // the data's credit (OpenStreetMap's licence asks for it on every map of its data)
      var span = document.createElement("span");
      span.textContent = options.credit;
      credit.addAttribution(span.outerHTML);
    }
    if (options.title) control("topleft", el("div", options.title, "pl-title leaflet-control"));
    if (options.warning) {  // e.g. a time limit stopped a pass: the plan is not proven
      control("topleft", el("div", options.warning, "pl-warning leaflet-control"));
    }
    var scale = L.control.scale({ imperial: false, metric: true, position: "bottomleft" });
    var draw = scale._updateScale;
    scale._updateScale = function (bar, text, ratio) {  // the units in the page's language
      var words = { km: state.texts.km || "km", m: state.texts.m || "m" };
      draw.call(this, bar, text.replace(/ (km|m)$/, function (_, u) { return " " + words[u]; }),
                ratio);
    };
    scale.addTo(map);
    if (options.notice) {
      state.notice = el("div", options.notice, "pl-notice leaflet-control");
      state.notice.style.display = "none";
      control("bottomright", state.notice);
    }
  }

  function pointFeatures(rows) {
    return rows.map(function (r) {
      return {
        type: "Feature",
        geometry: { type: "Point", coordinates: [r[0], r[1]] },
        properties: r[2]
      };
    });
  }

  /** The spec's features: its GeoJSON, then its point rows (either may be absent). */
  function features(spec) {
    var own = spec.data ? spec.data.features : [];
    return { type: "FeatureCollection", features: own.concat(pointFeatures(spec.points || [])) };
  }

  /** An overlay from a spec {key, style, data (GeoJSON) and/or points ([lon, lat, props]
   *  rows), rows (popup labels), coords (label of the coordinates row), kind, search,
   *  marker, cls, labels ({minZoom, points: [lon, lat, name]}), sets (kind, rows, coords
   *  and search of the features whose popup says r: the index of its set)}. A point with
   *  a number ``n`` is drawn as that number in a circle of colour ``c``. */
  function overlay(spec) {
    var interactive = !spec.style || spec.style.interactive !== false;
    var layer = L.geoJSON(features(spec), {
      interactive: interactive,
      style: function (f) { return L.extend({}, spec.style, f.properties.s); },
      pointToLayer: function (f, latlng) {
        return marker(spec, L.extend({}, spec.style, f.properties.s), latlng, f.properties);
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        if (!interactive) return;
        if (p.t !== undefined && p.t !== null) {
          var sticky = !spec.marker && p.n === undefined;  // markers: above them, lines: at the mouse
          layer.bindTooltip(function () { return el("span", p.t); }, { sticky: sticky });
        }
        if (p.p) {
          layer.bindPopup(function () { return popupContent(f, spec); }, {
            maxWidth: Math.min(340, state.map.getSize().x - 50)
          });
        }
      }
    });
    state.overlays[spec.key] = layer;
    state.specs[spec.key] = spec;
    state.order.push(spec.key);
    if (spec.labels) api.labels(layer, spec.labels);
    if (state.gcj) shift(layer, true);
    return layer;
  }

  /** A basemap from a spec {tiles: [{url, options}], gcj02}: no tiles is the offline one. */
  function basemap(spec) {
    var tiles = spec.tiles.map(function (t) { return L.tileLayer(t.url, t.options); });
    return L.layerGroup(tiles, { plannerGcj: !!spec.gcj02 });
  }

  var api = {
    init: init,
    overlay: overlay,
    basemap: basemap,
    gcj02: gcj02,
    setGcj: setGcj,
    layers: state.overlays,
    state: state
  };
  // helpers for map_ui.js
  api.el = el;
  api.control = control;
  api.drawnAt = drawnAt;
  api.rowSet = rowSet;
  return api;
})();
