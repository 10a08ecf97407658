// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Models.Onnx;

using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

/// <summary>
/// Reads a managed resource embedded in a .NET assembly file without loading the assembly (System.Reflection.Metadata):
/// the manifest resource table gives an offset into the CLI header's resources directory, where the resource is a
/// little-endian uint32 length followed by its bytes (ECMA-335 II.24.2.6). The file is untrusted: the offset and the
/// length are checked against the directory before anything is allocated.
/// </summary>
public static class AssemblyResources
{
    /// <summary>The bytes of resource <paramref name="name"/> in the assembly at <paramref name="path"/>.</summary>
    public static byte[] Read(string path, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentException.ThrowIfNullOrEmpty(name);
        using var stream = File.OpenRead(path);
        return Read(stream, name, path);
    }

    /// <summary>The bytes of resource <paramref name="name"/> in the assembly image in <paramref name="stream"/>.</summary>
    public static byte[] Read(Stream stream, string name, string source = "<stream>")
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            using var pe = new PEReader(stream, PEStreamOptions.LeaveOpen);
            if (!pe.HasMetadata || pe.PEHeaders.CorHeader is not { } cor)
                throw new OnnxFormatException($"AssemblyResources: {source} is not a .NET assembly (no CLI header).");
            var md = pe.GetMetadataReader();
            foreach (var handle in md.ManifestResources)
            {
                var resource = md.GetManifestResource(handle);
                if (!md.StringComparer.Equals(resource.Name, name)) continue;
                if (!resource.Implementation.IsNil)
                    throw new OnnxFormatException($"AssemblyResources: resource '{name}' of {source} lives in another file.");
                var dir = cor.ResourcesDirectory;
                var block = pe.GetSectionData(dir.RelativeVirtualAddress);
                long size = Math.Min(dir.Size, block.Length);
                long offset = resource.Offset;
                if (offset < 0 || offset + 4 > size)
                    throw new OnnxFormatException($"AssemblyResources: resource '{name}' of {source} starts at {offset}, past the {size}-byte resources directory.");
                var reader = block.GetReader(0, (int)size);
                reader.Offset = (int)offset;
                uint length = reader.ReadUInt32();
                if (length > size - offset - 4)
                    throw new OnnxFormatException($"AssemblyResources: resource '{name}' of {source} claims {length} bytes; the directory holds {size - offset - 4} after it.");
                return reader.ReadBytes((int)length);
            }
            throw new OnnxFormatException($"AssemblyResources: {source} has no resource '{name}'.");
        }
        catch (BadImageFormatException e)
        {
            throw new OnnxFormatException($"AssemblyResources: {source} is not a valid PE/.NET image ({e.Message}).", e);
        }
    }
}
