"""The staff console's presentation: templates' environment, charts drawn as SVG, form parsing."""
