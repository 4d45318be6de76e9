// Run at image build time (GPU variant) to let DJL download the CUDA PyTorch natives named by PYTORCH_VERSION and
// PYTORCH_FLAVOR into DJL_CACHE_DIR. Loading them may fail on a build machine without a GPU driver: only the
// download matters here, and the Dockerfile checks that libtorch_cuda.so arrived.
// Usage: java -cp "<the service's jars>" FetchNatives.java
public class FetchNatives {
    public static void main(String[] args) throws Exception {
        for (String name : new String[] {"DJL_CACHE_DIR", "PYTORCH_VERSION", "PYTORCH_FLAVOR"}) {
            if (System.getenv(name) == null || System.getenv(name).isBlank()) {
                throw new IllegalStateException(name + " must be set, e.g. PYTORCH_FLAVOR=cu128");
            }
        }
        try {
            Class<?> engine = Class.forName("ai.djl.engine.Engine");
            Object pytorch = engine.getMethod("getEngine", String.class).invoke(null, "PyTorch");
            System.out.println("PyTorch engine loaded: " + pytorch);
        } catch (ReflectiveOperationException | LinkageError e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            System.out.println("PyTorch engine not loaded here (expected without a GPU driver): " + cause);
        }
    }
}
