"""The Folium elements of map.html: each calls the planner's map script (``map.js``).

Each element carries a spec as script-safe JSON (:func:`~planner.report.map.encode.js_json`);
``map.js`` builds the Leaflet layers, tooltips, popups and legend from it with
``textContent``, so no text from the data is parsed as HTML. Leaflet's layer control
shows layer names as HTML: they are escaped here.
"""

from __future__ import annotations

from typing import Any

from branca.element import MacroElement
from folium.map import Layer
from folium.template import Template

from planner.report.map.encode import html_text, js_json


class Overlay(Layer):
    """An overlay built by ``plannerMap.overlay`` from a spec (see map.js).

    Parameters
    ----------
    name
        Name in the layer control (plain text).
    spec
        ``key``, ``style`` and ``data`` (GeoJSON) or ``points`` (rows), optionally
        ``rows`` (popup row labels), ``marker`` and ``cls``.
    show
        Whether the overlay is on when the page opens.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = plannerMap.overlay({{ this.spec_json }});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, spec: dict[str, Any], *, show: bool = True) -> None:
        super().__init__(name=html_text(name), overlay=True, control=True, show=show)
        self._name = "PlannerOverlay"
        self.spec_json = js_json(spec)


class Basemap(Layer):
    """A base layer of tile layers (none: the offline basemap).

    Parameters
    ----------
    name
        Name in the layer control (plain text).
    spec
        ``tiles`` (url and options of each) and ``gcj02``.
    show
        Whether this is the basemap shown when the page opens.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = plannerMap.basemap({{ this.spec_json }});
        {% endmacro %}
        """
    )

    def __init__(self, name: str, spec: dict[str, Any], *, show: bool) -> None:
        super().__init__(name=html_text(name), overlay=False, control=True, show=show)
        self._name = "PlannerBasemap"
        self.spec_json = js_json(spec)


class Call(MacroElement):
    """``plannerMap.<method>(map, <args>)`` once the map exists.

    Parameters
    ----------
    method
        A function of ``plannerMap`` (``init``, ``legend``).
    args
        Its argument, passed as JSON.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        plannerMap.{{ this.method }}({{ this._parent.get_name() }}, {{ this.args_json }});
        {% endmacro %}
        """
    )

    def __init__(self, method: str, args: object) -> None:
        super().__init__()
        self._name = "PlannerCall"
        self.method = method
        self.args_json = js_json(args)


class Controls(MacroElement):
    """``plannerMap.controls(map, layerControl, <args>)``: the page's own controls.

    Added after the layer control (whose name it is given): makes that collapsible,
    and adds the scale bar and the search box (see map.js).

    Parameters
    ----------
    layer_control
        The map's layer control.
    args
        Options and texts, passed as JSON.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        plannerMap.controls({{ this._parent.get_name() }}, {{ this.control_name }},
            {{ this.args_json }});
        {% endmacro %}
        """
    )

    def __init__(self, layer_control: MacroElement, args: object) -> None:
        super().__init__()
        self._name = "PlannerControls"
        self.control_name = layer_control.get_name()
        self.args_json = js_json(args)
