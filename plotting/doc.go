// Package plotting draws rleval's figures with gonum/plot and writes the
// HTML pages that show them.
//
// Colours follow matplotlib exactly: Viridis, RdBuR and HotR hold
// matplotlib's 256-entry lookup tables and Colormap.At looks a value up the
// way matplotlib does. Histogram and Histogram2D bin like numpy.histogram
// and numpy.histogram2d, so their counts can be written as data as well as
// drawn.
//
// Heatmaps are drawn as one raster image per grid, never one rectangle per
// cell, with the origin at the lower left (row 0 of a grid is the bottom of
// the picture, as imshow(origin="lower")). RenderRaster writes grids of any
// size to a PNG while holding one row at a time.
//
// Line plots (Lines) draw a long sorted series as its M4 aggregate per
// pixel column (M4, after Jugel et al., VLDB 2014), painted straight into
// the image: pixel-identical to drawing every point, at O(points + pixels).
// SmoothEMA is TensorBoard's debiased smoothing. InteractiveCurves returns
// the HTML of zoomable uPlot charts (vendored under assets/uplot with its
// licence, embedded) for Section.Interactive or Index.Interactive.
//
// Every figure is a *Figure; SaveFigure writes it as PNG and/or SVG, and
// Report and Index render self-contained HTML pages. All files are written
// atomically: to a temporary file in the same directory, then renamed.
package plotting
