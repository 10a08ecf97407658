// Copyright (c) HpcCore contributors. Licensed under the MIT license.
// ILGPU's CPU accelerator runs kernels through a dynamic assembly named "ILGPURuntime"; it must see our internal
// kernel methods and parameter structs.
using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("ILGPURuntime")]
