import { Client } from "pg";
import { startTestService } from "../support/test-service";
import { waitFor } from "../support/wait-for";

describe("graceful shutdown", () => {
  it("stops taking requests, lets the in-flight job finish and commit, then closes the database", async () => {
    const svc = await startTestService({ role: "web" });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started = false;
    svc.container.queue.process("maintenance.sweep", async () => {
      started = true;
      await gate;
      await svc.container.ds.query(`INSERT INTO audit_log (actor_type, action, entity, entity_id) VALUES ('system', 'update', 'shutdown-test', 'job')`);
    });
    await svc.container.queue.enqueue("maintenance.sweep", {});
    await waitFor(() => started, { what: "job to start" });

    let stopped = false;
    const stopping = svc.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 200));
    expect(stopped).toBe(false); // still waiting for the job
    await expect(svc.http.get("/healthz")).rejects.toThrow(); // no longer accepting
    release();
    await stopping;
    expect(svc.container.ds.isInitialized).toBe(false);

    const c = new Client({ connectionString: svc.db.url });
    await c.connect();
    const { rows } = await c.query(`SELECT entity_id FROM audit_log WHERE entity = 'shutdown-test'`);
    await c.end();
    expect(rows).toEqual([{ entity_id: "job" }]);
    await svc.close();
  });
});
