// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Fuzz;

/// <summary>
/// One parser or loader under test: real seed files, a structure-aware mutator, the consumer that parses a mutated
/// input, and the exception types its documentation allows (anything else is a failure).
/// </summary>
/// <param name="Name">Report name.</param>
/// <param name="Seeds">Valid inputs the mutations start from.</param>
/// <param name="Mutate">Returns a mutated copy of a seed (may use the other seeds for splicing).</param>
/// <param name="Consume">Parses/loads one input; returns normally when it was accepted.</param>
/// <param name="Documented">Exception types a bad input may raise (subclasses included).</param>
internal sealed record FuzzTarget(
    string Name,
    IReadOnlyList<byte[]> Seeds,
    Func<Random, byte[], IReadOnlyList<byte[]>, byte[]> Mutate,
    Action<byte[]> Consume,
    IReadOnlyList<Type> Documented)
{
    public bool IsDocumented(Exception e) => Documented.Any(t => t.IsInstanceOfType(e));
}
