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
}
