// Copyright (c) HpcCore contributors. Licensed under the MIT license.
global using Xunit;
