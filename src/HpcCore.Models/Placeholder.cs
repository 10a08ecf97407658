namespace HpcCore.Models;
