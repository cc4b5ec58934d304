/* Behaviour of the planner's map.html (rural charging planner, MIT). Needs Leaflet.
 *
 * Overlays arrive as GeoJSON with display properties per feature:
 *   t  tooltip text,  p  popup {title, v: values of the layer's row labels},  s  style.
 * Every text is put in the page with textContent, never parsed as HTML.
 * On a basemap whose options say plannerGcj, every overlay is drawn shifted to GCJ-02
 * (display only: the data stay WGS84 and the shift is undone on other basemaps).
 */
var plannerMap = (function () {
  "use strict";
  var state = { map: null, overlays: {}, order: [], gcj: false, notice: null };

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function popupContent(p, labels) {
    var box = el("div", null, "pl-popup");
    box.appendChild(el("div", p.title, "pl-popup-title"));
    var table = el("table");
    labels.forEach(function (label, i) {
      var tr = el("tr");
      tr.appendChild(el("th", label));
      tr.appendChild(el("td", p.v[i]));
      table.appendChild(tr);
    });
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
    if (state.notice) state.notice.style.display = on ? "" : "none";
  }

  function marker(spec, style, latlng) {
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

  /** Register the map: basemap switches drive the GCJ-02 display shift. */
  function init(map, options) {
    state.map = map;
    map.on("baselayerchange", function (e) { setGcj(!!e.layer.options.plannerGcj); });
    if (options.notice) {
      var Notice = L.Control.extend({
        onAdd: function () {
          state.notice = el("div", options.notice, "pl-notice leaflet-control");
          state.notice.style.display = "none";
          return state.notice;
        }
      });
      new Notice({ position: "bottomright" }).addTo(map);
    }
    if (options.title) {
      var Title = L.Control.extend({
        onAdd: function () { return el("div", options.title, "pl-title leaflet-control"); }
      });
      new Title({ position: "topleft" }).addTo(map);
    }
  }

  function pointFeatures(rows) {
    return {
      type: "FeatureCollection",
      features: rows.map(function (row) {
        return {
          type: "Feature",
          geometry: { type: "Point", coordinates: [row[0], row[1]] },
          properties: row[2]
        };
      })
    };
  }

  /** An overlay from a spec {key, style, data (GeoJSON) or points ([lon, lat, props] rows),
   *  rows (popup labels), marker, cls}. */
  function overlay(spec) {
    var layer = L.geoJSON(spec.data || pointFeatures(spec.points), {
      style: function (f) { return L.extend({}, spec.style, f.properties.s); },
      pointToLayer: function (f, latlng) {
        return marker(spec, L.extend({}, spec.style, f.properties.s), latlng);
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        if (p.t !== undefined && p.t !== null) {
          layer.bindTooltip(function () { return el("span", p.t); }, { sticky: !spec.marker });
        }
        if (p.p) {
          layer.bindPopup(function () { return popupContent(p.p, spec.rows); }, { maxWidth: 340 });
        }
      }
    });
    state.overlays[spec.key] = layer;
    state.order.push(spec.key);
    if (state.gcj) shift(layer, true);
    return layer;
  }

  /** A basemap from a spec {tiles: [{url, options}], gcj02}: no tiles is the offline one. */
  function basemap(spec) {
    var tiles = spec.tiles.map(function (t) { return L.tileLayer(t.url, t.options); });
    return L.layerGroup(tiles, { plannerGcj: !!spec.gcj02 });
  }

  function swatch(sym) {
    var box = el("span", null, "pl-swatch pl-swatch-" + sym.shape);
    box.style.background = sym.fill || "transparent";
    box.style.borderColor = sym.color || "transparent";
    if (sym.size) {
      box.style.width = sym.size + "px";
      box.style.height = sym.size + "px";
    }
    return box;
  }

  /** The legend: [{title, items: [{label, symbol: {shape, color, fill, size}}]}]. */
  function legend(map, sections) {
    var Legend = L.Control.extend({
      onAdd: function () {
        var box = el("details", null, "pl-legend leaflet-control");
        box.open = true;
        box.appendChild(el("summary", "Legend", "pl-legend-summary"));
        sections.forEach(function (sec) {
          box.appendChild(el("div", sec.title, "pl-legend-title"));
          sec.items.forEach(function (item) {
            var row = el("div", null, "pl-legend-row");
            row.appendChild(swatch(item.symbol));
            row.appendChild(el("span", item.label));
            box.appendChild(row);
          });
        });
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    return new Legend({ position: "bottomleft" }).addTo(map);
  }

  return {
    init: init,
    overlay: overlay,
    basemap: basemap,
    legend: legend,
    gcj02: gcj02,
    setGcj: setGcj,
    layers: state.overlays,
    state: state
  };
})();
