package dev.tuneloop.cli;

import dev.tuneloop.stack.LocalS3;
import dev.tuneloop.stack.LocalStack;
import dev.tuneloop.stack.ServiceProcess;
import dev.tuneloop.stack.StackModel;
import dev.tuneloop.stack.StackService;
import dev.tuneloop.storage.StorageSettings;
import dev.tuneloop.model.hub.HubFiles;
import dev.tuneloop.model.hub.HubSettings;
import dev.tuneloop.model.hub.ModelLocator;
import dev.tuneloop.model.hub.Progress;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;

/**
 * {@code stack up}: Kafka, S3 and the four services on this machine until Ctrl-C; state under {@code --state}.
 *
 * <pre>
 * stack up [--state DIR] [--model tiny|ID|DIR] [--kafka host:port | --kafka-port N]
 *          [--s3 URL --s3-access-key K --s3-secret-key S [--s3-region R] [--s3-bucket B] | --s3-port N]
 * </pre>
 */
final class StackCommand {
    static final Path DEFAULT_STATE = Path.of(".tuneloop", "stack");
    static final String QWEN = "Qwen/Qwen2.5-0.5B-Instruct";

    private static volatile boolean stopping;

    private StackCommand() {}

    static int run(String[] argv) throws Exception {
        if (argv.length == 0 || !argv[0].equals("up")) {
            throw new Args.UsageException("stack: usage: stack up [--state DIR] [--model tiny|ID|DIR]"
                    + " [--kafka host:port | --kafka-port N] [--s3 URL --s3-access-key K --s3-secret-key S"
                    + " [--s3-region R] [--s3-bucket B] | --s3-port N]");
        }
        Args args = new Args("stack up", java.util.Arrays.copyOfRange(argv, 1, argv.length), Set.of());
        Path state = args.path("state", DEFAULT_STATE);
        String model = args.string("model", null);
        String kafka = args.string("kafka", null);
        int kafkaPort = args.integer("kafka-port", 0);
        String s3 = args.string("s3", null);
        StorageSettings externalS3 = null;
        String bucket = args.string("s3-bucket", "tuneloop");
        if (s3 != null) {
            externalS3 = new StorageSettings(s3, args.string("s3-access-key"), args.string("s3-secret-key"),
                    args.string("s3-region", null), bucket);
        }
        int s3Port = args.integer("s3-port", 0);
        args.finish();
        if (kafka != null && kafkaPort != 0) {
            throw new Args.UsageException("stack up: --kafka uses an external broker; --kafka-port is for the local one");
        }
        if (s3 != null && s3Port != 0) {
            throw new Args.UsageException("stack up: --s3 uses an external server; --s3-port is for the local one");
        }

        StackModel stackModel = chooseModel(model, System.err);
        LocalStack.Options options = new LocalStack.Options(state, repoDir(), stackModel, kafka, kafkaPort, externalS3,
                s3Port, bucket, Duration.ofMinutes(10));
        LocalStack stack = LocalStack.start(options, line -> System.err.println("tuneloop: " + line));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopping = true;
            System.err.println("tuneloop: stopping the stack ...");
            stack.close();
            System.err.println("tuneloop: stopped");
        }, "tuneloop-stack-stop"));
        printEndpoints(stack, System.out);
        watch(stack);
        return 0;
    }

    /**
     * {@code tiny} makes no network call. No {@code --model}: Qwen2.5-0.5B-Instruct when it is in the Hugging Face
     * cache or the hub answers, otherwise tiny.
     */
    static StackModel chooseModel(String model, PrintStream err) throws IOException {
        Path shared = StackCommand.sharedDir();
        if (model == null) {
            model = qwenAvailable() ? QWEN : "tiny";
            if (model.equals("tiny")) {
                err.println("tuneloop: " + QWEN + " is not in the Hugging Face cache and the hub does not answer;"
                        + " using the tiny model");
            }
        }
        StackModel chosen = StackModel.resolve(model, shared, StackCommand.cacheDir());
        if (chosen.isTiny()) {
            StackCommand.announceTiny(err);
        }
        return chosen;
    }

    private static boolean qwenAvailable() {
        HubSettings settings = HubSettings.fromEnvironment();
        try {
            ModelLocator.resolve(QWEN, settings.withOffline(true), HubFiles.model(), Progress.silent());
            return true;
        } catch (IOException | RuntimeException notCached) {
            if (settings.offline()) {
                return false;
            }
        }
        try {
            HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                    .followRedirects(HttpClient.Redirect.NORMAL).build();
            HttpResponse<Void> response = client.send(HttpRequest.newBuilder(
                    URI.create(settings.endpoint() + "/api/models/" + QWEN)).timeout(Duration.ofSeconds(10))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
            return response.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static void printEndpoints(LocalStack stack, PrintStream out) {
        StorageSettings s3 = stack.storage();
        out.println("tuneloop stack is up (state " + stack.stateDir() + ")");
        out.println("  orchestrator  " + stack.orchestratorUrl() + "   POST/GET /runs, GET /runs/{id}, GET /promotions");
        out.println("  inference     " + stack.inferenceUrl() + "   POST /v1/answer, POST /v1/chat/completions,"
                + " GET /v1/adapter");
        out.println("  kafka         " + stack.kafkaBootstrapServers());
        out.println("  s3            " + s3.endpoint() + "   bucket " + s3.bucket() + ", access key " + s3.accessKey()
                + (s3.accessKey().equals(LocalS3.ACCESS_KEY) ? ", secret key " + LocalS3.SECRET_KEY : ""));
        out.println("  logs          " + stack.logsDir());
        out.println("  API tokens    none: authentication is off in a local stack (127.0.0.1 only; see docs/security.md)");
        out.flush();
    }

    /** Blocks until the JVM shuts down (Ctrl-C), telling once about a service that died. */
    private static void watch(LocalStack stack) throws InterruptedException {
        System.err.println("tuneloop: Ctrl-C stops everything");
        Set<StackService> reported = new HashSet<>();
        while (true) {
            Thread.sleep(2000);
            for (StackService service : StackService.values()) {
                ServiceProcess process = stack.service(service);
                if (!stopping && !process.process().isAlive() && reported.add(service)) {
                    System.err.println("tuneloop: " + process.name() + " exited with code "
                            + process.process().exitCode() + "; see " + process.process().log());
                }
            }
        }
    }

    static void announceTiny(PrintStream err) {
        err.println("tuneloop: ************************************************************************");
        err.println("tuneloop: * MODEL: tiny — a tiny RANDOM Qwen2 with the real Qwen2.5 tokenizer.   *");
        err.println("tuneloop: * Its answers are noise: this proves the pipeline, not the model.      *");
        err.println("tuneloop: * Use --model Qwen/Qwen2.5-0.5B-Instruct for the real model.           *");
        err.println("tuneloop: ************************************************************************");
    }

    /** The repository (the launcher sets {@code tuneloop.home}); the services' fast-jars are built under it. */
    static Path repoDir() {
        return Path.of(System.getProperty("tuneloop.home", ".")).toAbsolutePath().normalize();
    }

    static Path sharedDir() {
        return Path.of(System.getProperty("tuneloop.shared.dir", "../shared")).toAbsolutePath().normalize();
    }

    static Path cacheDir() {
        return Path.of(System.getProperty("user.home"), ".cache", "tuneloop");
    }
}
