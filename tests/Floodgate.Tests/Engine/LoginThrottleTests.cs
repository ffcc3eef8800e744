using System.Net;
using Floodgate.Engine;

namespace Floodgate.Tests.Engine;

public sealed class LoginThrottleTests
{
    [Fact]
    public void ClientBlock_IsTheAddressForIPv4_AndThe64ForIPv6()
    {
        Assert.Equal(IPAddress.Parse("192.0.2.7"), ClientBlock.Of(IPAddress.Parse("192.0.2.7")));
        Assert.Equal(IPAddress.Parse("192.0.2.7"), ClientBlock.Of(IPAddress.Parse("::ffff:192.0.2.7")));
        Assert.Equal(IPAddress.Parse("2001:db8:1:2::"), ClientBlock.Of(IPAddress.Parse("2001:db8:1:2:abcd:ef01:2345:6789")));
        Assert.Equal(ClientBlock.Of(IPAddress.Parse("2001:db8:1:2::1")), ClientBlock.Of(IPAddress.Parse("2001:db8:1:2:ffff::9")));
        Assert.NotEqual(ClientBlock.Of(IPAddress.Parse("2001:db8:1:2::1")), ClientBlock.Of(IPAddress.Parse("2001:db8:1:3::1")));
    }

    [Fact]
    public void LoginThrottle_CountsAnIPv6Slash64AsOneClient_UntilItsWindowIsOver()
    {
        var time = new ManualClock();
        var throttle = new LoginThrottle(3, TimeSpan.FromMinutes(5), time);
        for (var i = 1; i <= 3; i++)
        {
            Assert.True(throttle.TryBegin(IPAddress.Parse($"2001:db8:1:2::{i:x}")));
        }

        Assert.False(throttle.TryBegin(IPAddress.Parse("2001:db8:1:2:dead:beef::1")));
        Assert.True(throttle.IsThrottled(IPAddress.Parse("2001:db8:1:2::77")));
        Assert.True(throttle.TryBegin(IPAddress.Parse("2001:db8:1:3::1")));

        time.Advance(TimeSpan.FromMinutes(5));
        Assert.True(throttle.TryBegin(IPAddress.Parse("2001:db8:1:2::1")));
    }

    [Fact]
    public void LoginThrottle_ARightPasswordGivesItsAttemptBack()
    {
        var throttle = new LoginThrottle(2, TimeSpan.FromMinutes(5));
        var client = IPAddress.Parse("192.0.2.7");
        for (var i = 0; i < 5; i++)
        {
            Assert.True(throttle.TryBegin(client));
            throttle.Succeeded(client);
        }

        Assert.True(throttle.TryBegin(client));
        Assert.True(throttle.TryBegin(client));
        Assert.False(throttle.TryBegin(client));
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
