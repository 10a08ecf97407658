// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models;

using Microsoft.Extensions.Logging;

/// <summary>
/// What HpcCore.Models logs through an optional <see cref="ILogger"/> (Microsoft.Extensions.Logging): the device a
/// pipeline runs on, fallbacks taken, and how long loading took. Source-generated, so a disabled level costs a check.
/// </summary>
internal static partial class ModelLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "device: {Device}")]
    public static partial void DeviceChosen(ILogger logger, string device);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "loaded {Model}: {Architecture}, {Layers} layers, {Parameters} parameters, vocabulary {Vocab}, context {Context}, in {Seconds:F2} s")]
    public static partial void LmLoaded(ILogger logger, string model, string architecture, int layers, long parameters, int vocab, int context, double seconds);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "{Tensors} F16/BF16 tensors converted to F32 at load ({Files} weight files)")]
    public static partial void WeightsConverted(ILogger logger, int tensors, int files);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "tokenizer.json in {Folder} is not loadable here ({Reason}); falling back to tokenizer.model")]
    public static partial void TokenizerFallback(ILogger logger, string folder, string reason);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "tokenizer: {Tokenizer} ({Ids} ids)")]
    public static partial void TokenizerLoaded(ILogger logger, string tokenizer, int ids);
}
