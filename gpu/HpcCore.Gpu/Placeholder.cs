namespace HpcCore.Gpu;
