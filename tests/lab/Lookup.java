// Lookup NAME: prints InetAddress.getByName(NAME), then every address of InetAddress.getAllByName(NAME),
// one per line; "UnknownHostException" and exit status 2 when the name does not resolve. Run as a
// single-file program (java Lookup.java NAME) by tests/lab/t-clients.sh. Java asks getaddrinfo.
import java.net.InetAddress;
import java.net.UnknownHostException;

public class Lookup {
	public static void main(String[] args) {
		// The JVM caches failures for 10 s; one lookup per process, so nothing to disable.
		try {
			System.out.println(InetAddress.getByName(args[0]).getHostAddress());
			for (InetAddress a : InetAddress.getAllByName(args[0])) {
				System.out.println(a.getHostAddress());
			}
		} catch (UnknownHostException e) {
			System.out.println("UnknownHostException");
			System.exit(2);
		}
	}
}
