// Copyright (c) HpcCore contributors. Licensed under the MIT license.
namespace HpcCore.Tests.Models.Vit;

using HpcCore.Models.Vit;
using Xunit;

public sealed class VitMethodSpecTests
{
    [Fact]
    public void ParseList_SplitsMethods_KeepsLayerLists()
    {
        var specs = VitMethodSpec.ParseList("baseline, tome:r=8,evit:keep=0.7;layers=3,6,9,ztp:keep=0.5;layer=1");
        Assert.Equal(["baseline", "tome", "evit", "ztp"], specs.Select(s => s.Name));
        Assert.Equal(8, specs[1].Int("r", 0));
        Assert.Equal(0.7, specs[2].Double("keep", 0));
        Assert.Equal([3, 6, 9], specs[2].Layers("layers", []));
        Assert.Equal(1, specs[3].Int("layer", 0));
        Assert.Equal(5, specs[0].Int("r", 5));
    }

    [Fact]
    public void Parse_BadArgument_Throws()
    {
        var ex = Assert.Throws<FormatException>(() => VitMethodSpec.Parse("tome:r"));
        Assert.Contains("'r'", ex.Message);
        var unknown = Assert.Throws<ArgumentException>(() => VitReducers.Create(VitMethodSpec.Parse("nope:x=1"), VitConfig.Tiny));
        Assert.Contains("nope", unknown.Message);
        Assert.Null(VitReducers.Create(VitMethodSpec.Parse("baseline"), VitConfig.Tiny));
    }
}
