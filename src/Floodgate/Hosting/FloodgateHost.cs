using Floodgate.Admin;
using Floodgate.Admin.Dashboard;
using Floodgate.Alerts;
using Floodgate.Configuration;
using Floodgate.Engine;
using Floodgate.Incidents;
using Floodgate.Pipeline;
using Floodgate.Quarantine;
using Floodgate.Relay;
using Floodgate.Relay.Delivery;
using Floodgate.Storage;
using Microsoft.AspNetCore.Connections;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Floodgate.Hosting;

/// <summary>Builds the one process: the engine and its stores, and a Kestrel listener per configured endpoint.</summary>
public static class FloodgateHost
{
    /// <summary>Creates the host; tests may replace the clock, the logging and the counter store.</summary>
    public static WebApplication Build(FloodgateOptions options, TimeProvider? time = null, Action<ILoggingBuilder>? logging = null,
        ICounterStore? counterStore = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();

        // Kestrel would announce the policy ports as "http://..."; Floodgate's own start line names every listener.
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        // Data protection warns that its keys are stored unencrypted: they are, in DATA_DIR/keys, readable by its owner only.
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);

        // A port already in use is reported by `floodgate serve` in one line; the host would add a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        if (logging is null)
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.UseUtcTimestamp = true;
            });
        }
        else
        {
            logging(builder.Logging);
        }

        var clock = time ?? TimeProvider.System;
        var database = FloodgateDatabase.Open(options.DataDirectory);
        var snapshots = new SqliteCounterSnapshots(database);
        var counters = new MemoryCounterStore(options.Rules, options.CounterMemoryBudget);
        var saved = snapshots.Load();
        var restored = counters.Import(saved);
        var health = new StoreHealth(clock);
        counters.Health = health;
        var stores = StoreSet.Open(options, database, counters, snapshots, health);
        var engine = new DecisionEngine(options.Rules, counterStore ?? stores.Counters, stores.Accounts);
        var shared = stores.Shared;
        if (shared is not null)
        {
            builder.Services.AddSingleton(shared.Redis);
            builder.Services.AddSingleton(shared.Counters);
        }

        var decisionLog = DecisionLog.Open(options.DecisionLog);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(clock);
        builder.Services.AddSingleton(database);
        builder.Services.AddSingleton(health);
        builder.Services.AddSingleton(snapshots);
        builder.Services.AddSingleton(counters);
        builder.Services.AddSingleton(stores.View);
        builder.Services.AddSingleton(stores.Accounts);
        builder.Services.AddSingleton(AdminToken.LoadOrCreate(options.DataDirectory));
        builder.Services.AddSingleton(AdminPassword.LoadOrCreate(options.DataDirectory));
        AdminAccess.AddServices(builder.Services, options);
        builder.Services.AddSingleton<FloodgateMetrics>();
        builder.Services.AddSingleton<TrafficHistory>();

        // Every instrument on a meter named "Floodgate", whichever part of Floodgate made it, is exported at /metrics.
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .ConfigureResource(resource => resource.AddService("floodgate"))
            .AddMeter(FloodgateMetrics.MeterName)
            // Prometheus scrapes every few seconds at most: no cached answer, so a scrape always shows the counts of now.
            .AddPrometheusExporter(prometheus => prometheus.ScrapeResponseCacheDurationMilliseconds = 0));
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower;
            json.SerializerOptions.DictionaryKeyPolicy = null;
        });
        builder.Services.AddSingleton(stores.Incidents);
        builder.Services.AddSingleton(stores.Audit);
        builder.Services.AddSingleton(stores.Exemptions);
        foreach (var reset in stores.Resets)
        {
            builder.Services.AddSingleton(reset);
        }

        builder.Services.AddSingleton(options.Release);
        builder.Services.AddSingleton<IIncidentAlerts, LoggedIncidentAlerts>();
        builder.Services.AddSingleton(s => new AlertDispatcher(options.Alerts, AlertChannels.From(options.Alerts, clock), clock,
            s.GetRequiredService<ILogger<AlertDispatcher>>()));
        builder.Services.AddSingleton<IIncidentAlerts>(s => s.GetRequiredService<AlertDispatcher>());
        builder.Services.AddHostedService<AlertDispatcherService>();
        builder.Services.AddSingleton<Admin.AccountRanking>();
        builder.Services.AddSingleton(s => new IncidentBook(s.GetRequiredService<IAccountStore>(), s.GetRequiredService<IIncidentStore>(),
            s.GetRequiredService<IAuditLog>(), s.GetServices<IIncidentAlerts>(), options.Rules, clock, s.GetRequiredService<ILogger<IncidentBook>>(), health));
        builder.Services.AddSingleton<AccountRelease>();
        builder.Services.AddSingleton<LimitAdjustments>();
        builder.Services.AddSingleton<HeldMail>();
        builder.Services.AddSingleton<PostfixHeldMail>();
        builder.Services.AddSingleton<IHeldMail>(s => s.GetRequiredService<PostfixHeldMail>());
        var behaviour = AddBehaviour(builder.Services, options, database, stores);
        builder.Services.AddSingleton(s => new DecisionPipeline(s.GetRequiredService<DecisionEngine>(), options, s.GetRequiredService<DecisionLog>(),
            s.GetRequiredService<ILogger<DecisionPipeline>>(), s.GetRequiredService<TrafficHistory>(), s.GetRequiredService<IncidentBook>(),
            new LimitWarnings(options.Rules, s.GetRequiredService<AlertDispatcher>(), clock, s.GetRequiredService<ILogger<LimitWarnings>>()), behaviour));
        AddRelay(builder.Services, options, clock);
        builder.Services.AddHostedService<IncidentKeeper>();
        builder.Services.AddSingleton<CounterSnapshotter>();
        builder.Services.AddHostedService(s => s.GetRequiredService<CounterSnapshotter>());
        builder.Services.AddSingleton(engine);
        builder.Services.AddSingleton(decisionLog);
        builder.Services.AddHostedService<CounterSweeper>();
        builder.Services.AddSingleton<PolicyListeners>();
        builder.Services.AddSingleton<ConfigReload>();
        builder.Services.AddSingleton<PolicyPoint>();
        if (options.LogWatches.Count > 0)
        {
            builder.Services.AddHostedService<Logs.LogWatch>();
        }

        // Policy answers are computed in memory without blocking, so running them on the socket's own thread skips a
        // thread-pool hop per request (measured: see the README's benchmarks).
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
        builder.WebHost.UseKestrelHttpsConfiguration();
        var certificate = AdminCertificate.Load(options.Admin);
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var listeners = kestrel.ApplicationServices.GetRequiredService<PolicyListeners>();
            kestrel.Listen(options.AdminEndpoint.Tcp!, admin =>
            {
                if (certificate is not null)
                {
                    admin.UseHttps(certificate);
                }
            });
            var relays = kestrel.ApplicationServices.GetRequiredService<RelayListeners>();
            foreach (var endpoint in options.RelayEndpoints)
            {
                kestrel.Listen(endpoint.Tcp!, l => l.Run(relays.Add(endpoint, l).OnConnectedAsync));
            }

            foreach (var endpoint in options.PolicyEndpoints)
            {
                if (endpoint.UnixPath is { } path)
                {
                    PrepareSocketPath(path);
                    kestrel.ListenUnixSocket(path, l => l.Run(listeners.Add(endpoint, l).OnConnectedAsync));
                }
                else
                {
                    kestrel.Listen(endpoint.Tcp!, l => l.Run(listeners.Add(endpoint, l).OnConnectedAsync));
                }
            }
        });

        var app = builder.Build();
        var journal = ReplayJournal(app, options, counters, snapshots, saved, attach: shared is null && options.CounterDurability == CounterDurability.Journal);
        var incidentBook = app.Services.GetRequiredService<IncidentBook>();
        var adjustments = app.Services.GetRequiredService<LimitAdjustments>();
        var spooled = RecoverSpool(app.Services);
        var relayIntake = app.Services.GetService<RelayIntake>();
        app.Services.GetRequiredService<OutboundQueue>().RecipientsRefused += (message, refused) =>
        {
            incidentBook.ObserveRefusedRecipients(message.CountedAs, refused.Count);
            _ = relayIntake?.CountRefusedAsync(message, refused.Count, clock.GetUtcNow()).AsTask();
        };
        var dispatcher = app.Services.GetRequiredService<AlertDispatcher>();
        health.Attach(app.Services.GetRequiredService<ILogger<StoreHealth>>(), dispatcher);
        app.Services.GetRequiredService<Quarantine.RelayQuarantine>().QuotaReached = dispatcher.Raise;
        if (shared is not null)
        {
            shared.Attach(incidentBook, adjustments, app.Services.GetRequiredService<ILogger<RedisStore>>(), dispatcher);
        }
        else
        {
            incidentBook.LoadAsync().GetAwaiter().GetResult();
            adjustments.Sync();
        }

        var deliveries = new SqliteAlertDeliveries(database);
        deliveries.DeleteOlderThan(clock.GetUtcNow());
        dispatcher.Delivered += d =>
        {
            if (d.IncidentId is { } id)
            {
                try
                {
                    // On disk at once (the timeline is saved in batches): a crash from here on cannot announce it again.
                    if (d.Event == AlertEvent.Suspended)
                    {
                        deliveries.Record(d);
                    }
                }
                finally
                {
                    incidentBook.RecordAlerted(id, d.Channel, d.Event switch
                    {
                        AlertEvent.Suspended => "alert delivered",
                        AlertEvent.Observed => "alert delivered (observe only)",
                        _ => $"{d.Event} delivered".ToLowerInvariant(),
                    });
                }
            }
        };

        // Incidents still open from before a restart: reminders resume; an incident already alerted is not alerted again,
        // also when the crash came before its timeline was saved.
        foreach (var incident in incidentBook.OpenIncidents)
        {
            if (!incident.Timeline.Any(e => e.Kind == "alerted"))
            {
                foreach (var channel in deliveries.ChannelsOf(incident.Id, AlertEvent.Suspended))
                {
                    incidentBook.RecordAlerted(incident.Id, channel, "alert delivered (before a restart)");
                }
            }

            dispatcher.Opened(incident);
        }

        var metrics = app.Services.GetRequiredService<FloodgateMetrics>();
        metrics.Watch(dispatcher);
        AdminAccess.Use(app);
        AdminApi.Map(app);
        DashboardPages.Map(app);
        app.MapPrometheusScrapingEndpoint("/metrics");
        var password = app.Services.GetRequiredService<AdminPassword>();
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            metrics.Start();
            foreach (var endpoint in options.PolicyEndpoints.Where(e => e.UnixPath is not null))
            {
                if (!OperatingSystem.IsWindows())
                {
                    Policy.PolicySocketAccess.Apply(endpoint.UnixPath!, options.Policy.SocketMode, options.Policy.SocketGroup);
                }
            }

            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Floodgate")
                .LogInformation("floodgate started: config {Source}; policy on {Endpoints}; relay on {Relay} (next hop {NextHop}; {Spooled}); admin API and dashboard on {Scheme}://{Admin} (token in {Token}, dashboard password {Password}); {Rules} limits: {RuleList}; mode {Mode}; fail mode {FailMode}; data in {Database} ({Restored} counter windows and {Suspended} suspensions restored)",
                    options.Source, string.Join(", ", options.PolicyEndpoints),
                    options.RelayEndpoints.Count == 0 ? "(off)" : string.Join(", ", app.Services.GetRequiredService<RelayListeners>().BoundEndpoints),
                    $"{options.Relay.NextHop.Host}:{options.Relay.NextHop.Port}", spooled, options.Admin.UsesTls ? "https" : "http", AdminAddress(app, options),
                    Path.Combine(options.DataDirectory, AdminToken.FileName), password.IsGenerated ? "in " + password.Path : "set with floodgate set-password", options.Rules.Rules.Count,
                    string.Join("; ", options.Rules.Rules), ModeText(options.Rules), options.FailMode, database.Path, restored,
                    stores.Accounts.ListSuspensionsAsync().AsTask().GetAwaiter().GetResult().Count);
        });
        // systemctl reload (ExecReload=kill -HUP): the default for SIGHUP would end the process.
        var hangup = OperatingSystem.IsWindows() ? null : System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGHUP, signal =>
        {
            signal.Cancel = true;
            var reload = app.Services.GetRequiredService<ConfigReload>();
            ThreadPool.QueueUserWorkItem(_ => reload.Reload());
        });
        app.Lifetime.ApplicationStopped.Register(() =>
        {
            hangup?.Dispose();
            app.Services.GetRequiredService<PostfixHeldMail>().DisposeAsync().AsTask().GetAwaiter().GetResult();
            decisionLog.DisposeAsync().AsTask().GetAwaiter().GetResult();
            journal?.Dispose();
            shared?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            database.Dispose();
        });
        return app;
    }

    // Before any decision: what the journal holds beyond the snapshot is counted again; then new commits are journaled
    // or, without the journal, what it held is saved in a snapshot at once and its segments go.
    private static CounterJournal? ReplayJournal(WebApplication app, FloodgateOptions options, MemoryCounterStore counters,
        SqliteCounterSnapshots snapshots, List<CounterSnapshot> saved, bool attach)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger<CounterJournal>();
        var records = CounterJournal.Read(options.DataDirectory, options.Rules, logger);
        var segments = CounterJournal.SegmentsIn(options.DataDirectory).Length;
        var (replayed, reset) = counters.Replay(records);
        foreach (var identity in reset)
        {
            snapshots.Delete(identity.Scope, identity.Key);
        }

        var last = Math.Max(records.Count == 0 ? 0 : records.Max(r => r.Lsn), saved.Count == 0 ? 0 : saved.Max(r => r.Lsn));
        if (segments > 0)
        {
            logger.LogInformation("counter journal: {Replayed} counts and {Reset} resets replayed from {Segments} segments", replayed, reset.Count, segments);
        }

        if (!attach)
        {
            if (segments > 0)
            {
                snapshots.Save(counters.ExportChanged(), app.Services.GetRequiredService<TimeProvider>().GetUtcNow(), synced: true);
                foreach (var segment in CounterJournal.SegmentsIn(options.DataDirectory))
                {
                    File.Delete(segment);
                }
            }

            return null;
        }

        var journal = CounterJournal.Open(options.DataDirectory, options.Rules, last, logger);
        counters.Journal = journal;
        return journal;
    }

    // The relay's parts: spool, outbound queue, quarantine, intake, TLS certificate and logins.
    // Behaviour on: the profiles saved in the store the configuration names (SQLite in data_dir, or the cluster's
    // Redis), the keeper that ends probations and saves, and the watch the pipeline scores with.
    private static Behaviour.BehaviourWatch? AddBehaviour(IServiceCollection services, FloodgateOptions options, FloodgateDatabase database, StoreSet stores)
    {
        if (!options.Behaviour.Enabled)
        {
            return null;
        }

        var store = Behaviour.ProfileStores.Open(options, database, stores.Shared?.Redis);
        var watch = new Behaviour.BehaviourWatch(options.Behaviour) { Accounts = stores.Accounts };
        try
        {
            watch.Load(store.LoadAll());
        }
        catch (Exception e) when (RedisStore.IsOutage(e))
        {
            // Redis is away at start: profiles are learned afresh on this node and saved when it returns.
        }

        services.AddSingleton(watch);
        services.AddSingleton(store);
        services.AddSingleton<Behaviour.ProfileKeeper>();
        services.AddHostedService(s => s.GetRequiredService<Behaviour.ProfileKeeper>());
        return watch;
    }

    private static void AddRelay(IServiceCollection services, FloodgateOptions options, TimeProvider clock)
    {
        services.AddSingleton(options.Relay);
        services.AddSingleton(_ => new MessageSpool(Path.Combine(options.DataDirectory, "spool")));
        services.AddSingleton(s => new OutboundQueue(s.GetRequiredService<MessageSpool>(), options.Relay.NextHop, options.Relay.Hostname, clock,
            s.GetRequiredService<ILogger<OutboundQueue>>()));
        services.AddSingleton<IOutboundDelivery>(s => s.GetRequiredService<OutboundQueue>());
        services.AddHostedService(s => s.GetRequiredService<OutboundQueue>());
        services.AddSingleton<RelayQuarantine>();
        services.AddSingleton<IHeldMail>(s => s.GetRequiredService<RelayQuarantine>());
        services.AddSingleton(s => new EnforcementPoint("relay", new RelayAnswers(options.Policy), options.Relay.Networks));
        services.AddHostedService<QuarantineKeeper>();
        services.AddSingleton<RelayIntake>();
        services.AddSingleton(new RelayPassword(options.Relay.Users, clock));
        services.AddSingleton(_ => new RelayTls(RelayCertificate.Load(options.Relay, options.DataDirectory, clock)));
        services.AddSingleton<RelayListeners>();
    }

    // Before any listener accepts a connection: every message acknowledged before a stop or crash goes back to the
    // outbound queue or the quarantine; files of messages never acknowledged are removed.
    private static string RecoverSpool(IServiceProvider services)
    {
        var recovery = services.GetRequiredService<MessageSpool>().Recover();
        var outbound = services.GetRequiredService<OutboundQueue>();
        var quarantine = services.GetRequiredService<RelayQuarantine>();
        foreach (var message in recovery.Messages)
        {
            if (message.State == SpoolState.Held)
            {
                quarantine.Add(message);
            }
            else
            {
                outbound.Enqueue(message);
            }
        }

        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Floodgate");
        foreach (var problem in recovery.Unreadable)
        {
            logger.LogError("spool: an envelope could not be read and was set aside (*.unreadable): {Problem}", problem);
        }

        return $"{outbound.Depth} queued and {quarantine.Count} held messages recovered";
    }

    /// <summary>"enforce", "observe (nothing is enforced)" or "enforce (observe only: hourly, daily)", for start and check-config lines.</summary>
    public static string ModeText(RuleSet rules) => rules.Mode == EnforcementMode.Observe
        ? "observe (nothing is enforced: every verdict is only logged, counted and alerted as would-have)"
        : rules.Observed.Any() ? $"enforce (observe only: {string.Join(", ", rules.Observed.Select(r => r.Name))})" : "enforce";

    /// <summary>The admin API's bound address (a configured port 0 gets a free port).</summary>
    public static System.Net.IPEndPoint AdminAddress(WebApplication app, FloodgateOptions options)
    {
        var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses ?? [];
        foreach (var address in addresses)
        {
            if (Uri.TryCreate(address, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip)
                && ip.Equals(options.AdminEndpoint.Tcp!.Address) && (options.AdminEndpoint.Tcp.Port == 0 || uri.Port == options.AdminEndpoint.Tcp.Port))
            {
                return new System.Net.IPEndPoint(ip, uri.Port);
            }
        }

        return options.AdminEndpoint.Tcp!;
    }

    // Kestrel will not bind over a socket file left by a previous run; a live one means another Floodgate is serving.
    private static void PrepareSocketPath(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        if (!File.Exists(path))
        {
            return;
        }

        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        try
        {
            probe.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        }
        catch (System.Net.Sockets.SocketException)
        {
            File.Delete(path);
            return;
        }

        throw new ConfigException($"unix:{path}: another process is already serving on this socket");
    }
}
