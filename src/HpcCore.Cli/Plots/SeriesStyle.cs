// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Cli.Plots;

using ScottPlot;

/// <summary>
/// One look for every `hpccore` plot: series i gets colour i of the Okabe-Ito colour-blind-safe palette (8 colours)
/// and marker i of 10 shapes, so that 40 series differ in colour or shape (and in print), and the legend sits outside
/// the data, right of the axes, where it covers no point.
/// </summary>
internal static class SeriesStyle
{
    private static readonly ScottPlot.Palettes.ColorblindFriendly Palette = new ScottPlot.Palettes.ColorblindFriendly();

    private static readonly MarkerShape[] Markers =
    [
        MarkerShape.FilledCircle, MarkerShape.FilledSquare, MarkerShape.FilledTriangleUp, MarkerShape.FilledDiamond,
        MarkerShape.FilledTriangleDown, MarkerShape.OpenCircle, MarkerShape.OpenSquare, MarkerShape.OpenDiamond,
        MarkerShape.Cross, MarkerShape.Eks,
    ];

    /// <summary>Colour of series <paramref name="index"/>.</summary>
    public static Color ColorOf(int index) => Palette.GetColor(index);

    /// <summary>Marker of series <paramref name="index"/>.</summary>
    public static MarkerShape MarkerOf(int index) => Markers[index % Markers.Length];

    /// <summary>Puts the legend in its own panel right of the data area.</summary>
    public static void LegendOutside(Plot plot) => plot.ShowLegend(Edge.Right);
}
