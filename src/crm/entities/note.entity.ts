import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from "typeorm";

// A CHECK requires at least one of contact_id, call_id, deal_id.
@Entity({ name: "notes" })
export class Note {
  @PrimaryGeneratedColumn("uuid")
  id: string;

  @Column({ name: "contact_id", type: "uuid", nullable: true })
  contactId: string | null;

  /** References calls (telephony component). */
  @Column({ name: "call_id", type: "uuid", nullable: true })
  callId: string | null;

  @Column({ name: "deal_id", type: "uuid", nullable: true })
  dealId: string | null;

  @Column({ name: "author_id", type: "uuid", nullable: true })
  authorId: string | null;

  @Column({ name: "body", type: "text" })
  body: string;

  @CreateDateColumn({ name: "created_at", type: "timestamptz" })
  createdAt: Date;
}
