/* The planner's own controls on map.html (rural charging planner, MIT). Needs map.js.
 *
 * Township names (shown from a zoom where they have room, while the townships are on),
 * the legend (only the sections of the overlays that are on; collapsible, collapsed on
 * small screens), the layer control's header (collapsible, collapsed on small screens)
 * and the search box over stations, repair points and townships.
 */
(function (pm) {
  "use strict";
  var state = pm.state, el = pm.el;

  /** Call fn once after the current burst of events (layers add many children). */
  function later(fn) {
    var queued = false;
    return function () {
      if (queued) return;
      queued = true;
      setTimeout(function () { queued = false; fn(); }, 0);
    };
  }

  /** Township names at their anchor points, shown while ``layer`` is on and the zoom is
   *  at least spec.minZoom (or the page is being printed: the whole county on A4). */
  function labels(layer, spec) {
    var map = state.map;
    if (!map.getPane("plLabels")) map.createPane("plLabels").style.zIndex = 450;
    var markers = spec.points.map(function (pt) {
      var icon = L.divIcon({ className: "pl-town-label", html: el("span", pt[2]), iconSize: null });
      return L.marker(L.latLng(pt[1], pt[0]), {
        icon: icon, interactive: false, keyboard: false, pane: "plLabels"
      });
    });
    var group = L.layerGroup(markers);
    function update() {
      var show = map.hasLayer(layer) && (map.getZoom() >= spec.minZoom || state.printing);
      if (show && !map.hasLayer(group)) map.addLayer(group);
      if (!show && map.hasLayer(group)) map.removeLayer(group);
    }
    state.labels = { group: group, minZoom: spec.minZoom, layer: layer, update: update };
    map.on("zoomend overlayadd overlayremove", update);
    layer.on("add remove", later(update));
    update();
    return group;
  }

  function swatch(sym) {
    var box = el("span", null, "pl-swatch pl-swatch-" + sym.shape);
    box.style.background = sym.fill || "transparent";
    box.style.borderColor = sym.color || "transparent";
    if (sym.size && sym.shape === "line") {
      box.style.borderTopWidth = sym.size + "px";
    } else if (sym.size) {
      box.style.width = sym.size + "px";
      box.style.height = sym.size + "px";
    }
    return box;
  }

  function section(sec) {
    var div = el("div", null, "pl-legend-sec");
    if (sec.items.length === 1 && !sec.items[0].label) {  // the symbol before the title
      var head = el("div", null, "pl-legend-title");
      head.appendChild(swatch(sec.items[0].symbol));
      head.appendChild(el("span", sec.title));
      div.appendChild(head);
      return div;
    }
    div.appendChild(el("div", sec.title, "pl-legend-title"));
    var items = el("div", null, "pl-legend-items");
    sec.items.forEach(function (item) {
      var span = el("span", null, "pl-legend-item");
      span.appendChild(swatch(item.symbol));
      span.appendChild(el("span", item.label));
      items.appendChild(span);
    });
    div.appendChild(items);
    if (sec.note) div.appendChild(el("div", sec.note, "pl-legend-note"));
    return div;
  }

  /** The legend: [{key, title, items: [{label, symbol: {shape, color, fill, size}}],
   *  note}] (note: an optional line of text below the items);
   *  a section shows while the overlay ``key`` (or one of a list of keys) is on. */
  function legend(map, sections) {
    var box = el("details", null, "pl-legend leaflet-control");
    box.open = !state.small;
    box.appendChild(el("summary", state.texts.legend || "Legend", "pl-legend-summary"));
    var parts = sections.map(function (sec) {
      var node = section(sec);
      box.appendChild(node);
      return { key: sec.key, node: node };
    });
    function update() {
      parts.forEach(function (part) {
        var keys = [].concat(part.key), known = false, on = false;
        keys.forEach(function (key) {
          var layer = state.overlays[key];
          known = known || !!layer;
          on = on || (!!layer && map.hasLayer(layer));
        });
        part.node.style.display = !known || on ? "" : "none";
      });
    }
    map.on("layeradd layerremove", later(update));
    update();
    state.legend = box;
    return pm.control("bottomleft", box);
  }

  // -- search ------------------------------------------------------------------------------

  function searchIndex() {
    var items = [];
    state.order.forEach(function (key) {
      var spec = state.specs[key];
      if (!spec.search) return;
      state.overlays[key].eachLayer(function (layer) {
        var p = layer.feature.properties.p;
        var kind = p && pm.rowSet(spec, p).search;
        if (!kind) return;
        var id = p.id || "";
        items.push({
          name: p.title, id: id, kind: kind, key: key, layer: layer,
          name_lc: String(p.title).toLowerCase(), id_lc: String(id).toLowerCase()
        });
      });
    });
    return items;
  }

  function matches(index, query) {
    var q = query.trim().toLowerCase();
    if (!q) return [];
    var found = [];
    index.forEach(function (item) {
      var rank;
      if (item.name_lc === q || item.id_lc === q) rank = 0;
      else if (item.name_lc.indexOf(q) === 0 || item.id_lc.indexOf(q) === 0) rank = 1;
      else if (item.name_lc.indexOf(q) >= 0 || item.id_lc.indexOf(q) >= 0) rank = 2;
      else return;
      found.push({ item: item, rank: rank, order: found.length });
    });
    found.sort(function (a, b) { return a.rank - b.rank || a.order - b.order; });
    return found.slice(0, 8).map(function (f) { return f.item; });
  }

  /** Show a found feature: its overlay on, the map on it, its popup open. */
  function pick(item) {
    var map = state.map, group = state.overlays[item.key], layer = item.layer;
    if (!map.hasLayer(group)) map.addLayer(group);
    if (layer.getLatLng) {
      map.setView(layer.getLatLng(), Math.max(map.getZoom(), 13), { animate: false });
      layer.openPopup();
    } else {
      map.fitBounds(layer.getBounds(), { maxZoom: 13, animate: false });
      var xy = layer.feature.properties.p.xy;
      layer.openPopup(xy ? pm.drawnAt(xy) : layer.getBounds().getCenter());
    }
  }

  function search(map) {
    var texts = state.texts, box = el("div", null, "pl-search leaflet-control");
    var input = el("input");
    input.type = "search";
    input.placeholder = texts.search || "Search";
    input.setAttribute("aria-label", input.placeholder);
    input.autocomplete = "off";
    var list = el("ul", null, "pl-search-results");
    list.setAttribute("role", "listbox");
    box.appendChild(input);
    box.appendChild(list);
    var index = null, found = [], active = 0;

    function show(done) {
      list.textContent = "";
      if (done) {
        list.style.display = "none";
        return;
      }
      found.forEach(function (item, i) {
        var li = el("li", null, i === active ? "pl-search-item pl-active" : "pl-search-item");
        li.setAttribute("role", "option");
        li.appendChild(el("span", item.name, "pl-search-name"));
        li.appendChild(el("span", item.kind + (item.id ? " · " + item.id : ""), "pl-search-meta"));
        L.DomEvent.on(li, "click", function (e) {
          L.DomEvent.stop(e);  // the item goes from the page: the map must not see a click
          choose(item);
        });
        list.appendChild(li);
      });
      if (!found.length && input.value.trim()) list.appendChild(el("li", texts.none, "pl-search-none"));
      list.style.display = list.childNodes.length ? "" : "none";
    }
    function choose(item) {
      found = [];
      input.value = item.name;
      show(true);
      pick(item);
    }
    input.addEventListener("input", function () {
      index = index || searchIndex();
      found = matches(index, input.value);
      active = 0;
      show();
    });
    input.addEventListener("keydown", function (e) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        active = (active + (e.key === "ArrowDown" ? 1 : found.length - 1)) % Math.max(found.length, 1);
        show();
        e.preventDefault();
      } else if (e.key === "Enter" && found.length) {
        choose(found[active]);
        e.preventDefault();
      } else if (e.key === "Escape") {
        found = [];
        input.value = "";
        show(true);
      }
    });
    show(true);
    state.search = input;
    return pm.control("topleft", box);
  }

  // -- the layer control -------------------------------------------------------------------

  /** The layer control gets a header to close it (the Leaflet icon opens it again) and
   *  starts closed on small screens; then the scale bar and the search box. */
  function controls(map, layers, options) {
    var texts = state.texts, box = layers.getContainer();
    var listNode = box.querySelector(".leaflet-control-layers-list");
    var toggle = box.querySelector(".leaflet-control-layers-toggle");
    var head = el("div", null, "pl-layers-head");
    head.appendChild(el("span", texts.layers || "Layers"));
    var close = el("button", "\u00d7", "pl-close");
    close.type = "button";
    close.title = texts.close || "Close";
    close.setAttribute("aria-label", close.title);
    L.DomEvent.on(close, "click", function (e) {
      L.DomEvent.stop(e);
      layers.collapse();
    });
    head.appendChild(close);
    listNode.insertBefore(head, listNode.firstChild);
    if (toggle) {
      toggle.title = texts.layers || "Layers";
      toggle.setAttribute("aria-label", toggle.title);
    }
    if (state.small) {
      layers.collapse();
      map.on("click", function () { layers.collapse(); });
    }
    state.layerControl = layers;
    search(map);
    printing(map);
    return options;
  }

  // -- printing ----------------------------------------------------------------------------

  /** On printing (A4 landscape, map.css): the whole county in the page with its
   *  townships' names, the legend open; the view and legend as they were afterwards. */
  function printing(map) {
    var saved = null;
    window.addEventListener("beforeprint", function () {
      var towns = state.overlays.townships;
      saved = { center: map.getCenter(), zoom: map.getZoom(),
                open: state.legend ? state.legend.open : null };
      if (state.legend) state.legend.open = true;
      state.printing = true;
      map.invalidateSize({ animate: false });
      if (towns && towns.getBounds().isValid()) {
        map.fitBounds(towns.getBounds(), { animate: false, padding: [8, 8] });
      }
      if (state.labels) state.labels.update();
    });
    window.addEventListener("afterprint", function () {
      state.printing = false;
      map.invalidateSize({ animate: false });
      if (state.labels) state.labels.update();
      if (!saved) return;
      map.setView(saved.center, saved.zoom, { animate: false });
      if (state.legend && saved.open !== null) state.legend.open = saved.open;
      saved = null;
    });
  }

  pm.labels = labels;
  pm.legend = legend;
  pm.controls = controls;
  pm.search = matches;
})(plannerMap);
