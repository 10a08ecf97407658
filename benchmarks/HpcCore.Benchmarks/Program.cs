// Copyright (c) HpcCore contributors. Licensed under the MIT license.
return 0;
