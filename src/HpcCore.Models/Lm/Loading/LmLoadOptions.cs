// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Lm.Loading;

using HpcCore.Tensors;

/// <summary>How <see cref="LmModelFiles.Open(string, string?, Devices.IBackend, Microsoft.Extensions.Logging.ILogger?, in LmLoadOptions)"/> stores a model.</summary>
/// <param name="LinearWeights">
/// Storage of the nn.Linear weights: F32 (the default), or BF16 (<see cref="LmWeights.ToBf16Linear"/>: rounded to
/// nearest even at load, half the bytes a decode step streams; a BF16 checkpoint keeps its own values exactly).
/// </param>
public readonly record struct LmLoadOptions(DType LinearWeights = DType.F32);
