"""The analysts' report (`lake report`): the gold answers as one self-contained HTML page of
charts (Vega-Lite through altair, rendered to inline SVG) and tables, with a tile map of Brazil."""
