using Floodgate.Configuration;

namespace Floodgate.Tests.Configuration;

public class CounterDurabilityConfigTests
{
    [Theory]
    [InlineData("exempt: []\n", CounterDurability.Journal)]
    [InlineData("counters: { durability: journal }\n", CounterDurability.Journal)]
    [InlineData("counters: { durability: snapshot }\n", CounterDurability.Snapshot)]
    public void CountersDurability_DefaultsToTheJournal(string yaml, CounterDurability expected) =>
        Assert.Equal(expected, ConfigLoader.Parse(yaml, "floodgate.yml", new Dictionary<string, string>()).CounterDurability);

    [Theory]
    [InlineData("counters: { durability: fast }\n", "counters.durability: 'fast' is not one of: journal, snapshot")]
    [InlineData("counters: { durabilty: snapshot }\n", "counters.durabilty: is not a known key; did you mean 'durability'?")]
    public void CountersDurability_BadValue_IsAClearError(string yaml, string error) =>
        Assert.Contains(error, Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "floodgate.yml", new Dictionary<string, string>())).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("exempt: []\n", 640L << 20)]
    [InlineData("counters: { memory_budget: 1GiB }\n", 1L << 30)]
    [InlineData("counters: { memory_budget: 200MB }\n", 200_000_000L)]
    [InlineData("counters: { memory_budget: 52428800 }\n", 50L << 20)]
    public void MemoryBudget_TakesSizes_AndDefaultsToRoomForAMillionIdentities(string yaml, long expected) =>
        Assert.Equal(expected, ConfigLoader.Parse(yaml, "floodgate.yml", new Dictionary<string, string>()).CounterMemoryBudget);

    [Theory]
    [InlineData("counters: { memory_budget: lots }\n", "counters.memory_budget: 'lots' is not a size")]
    [InlineData("counters: { memory_budget: 12 parsecs }\n", "counters.memory_budget: '12 parsecs' is not a size")]
    [InlineData("counters: { memory_budget: 100KiB }\n", "from 1048576 to")]
    [InlineData("counters: { memory_budget: 99999999999999GiB }\n", "is not a size")]
    public void MemoryBudget_Garbage_IsAClearError(string yaml, string error) =>
        Assert.Contains(error, Assert.Throws<ConfigException>(() => ConfigLoader.Parse(yaml, "floodgate.yml", new Dictionary<string, string>())).Message, StringComparison.Ordinal);
}
